import XalorraCore
import XalorraML

extension RemoteAPI {
    /// `POST /predict/{model}` with `"explain": true`. A batch goes in one request (the server's row and body limits
    /// apply: a larger file is refused with 413, not sent in parts as ``predictBatch(model:rows:)`` does).
    public func predictExplained(model: String, request: PredictRequest) async throws(XalorraError) -> ExplainedPrediction {
        let body = RawBody(bytes: request.explainedBody, contentType: "application/json")
        let answer = try ExplainedPrediction(json: await send(.predict, model, raw: body))
        if case .batch(let batch) = answer.answer, case .batch(let rows) = request {
            guard batch.predictions.count == rows.rowCount, answer.contributions.count == rows.rowCount else {
                throw JSONValue.unexpectedResponse(
                    "\(batch.predictions.count) predictions and \(answer.contributions.count) explanations for "
                        + "\(rows.rowCount) rows")
            }
        }
        return answer
    }
}
