import XalorraCore

/// Training jobs: `POST /train/{model}` queues one, `/train/jobs[/{id}]` lists, shows and cancels.
enum TrainingController {
    /// `POST /train/{model}`.
    static let train: RouteHandler = { input in
        let model = input.parameter("model")
        // A JSON object starts with `{`; anything else is the CSV file itself.
        let isJSON = input.body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } == UInt8(ascii: "{")
        let request = isJSON
            ? try TrainingRequest(model: model, body: input.body)
            : try TrainingRequest(model: model, query: input.query, csv: input.body)
        let job = try await input.api.submitTraining(request)
        return .json(Envelope.success(job.json, message: ModelMessageText.jobQueued), status: 202)
    }

    /// `GET /train/jobs`.
    static let trainingJobs: RouteHandler = { input in
        let query = TrainingJobQuery(
            tenant: input.query["tenant"], model: input.query["model"],
            status: try input.query["status"].map { _ throws(XalorraError) in
                try input.query.choice("status", default: TrainingJob.Status.queued)
            },
            limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
        return .json(try await input.api.trainingJobs(query).json)
    }

    /// `GET /train/jobs/{id}`.
    static let trainingJob: RouteHandler = { input in
        let job = try await input.api.trainingJob(input.parameter("id"))
        return .json(Envelope.success(job.json, message: ModelMessageText.jobRetrieved))
    }

    /// `DELETE /train/jobs/{id}`.
    static let cancelTrainingJob: RouteHandler = { input in
        let job = try await input.api.cancelTrainingJob(input.parameter("id"))
        return .json(Envelope.success(job.json, message: ModelMessageText.jobCancelled))
    }
}
