/// The answers every store gives the same way, whichever database holds it: the SQLite repositories' own rules,
/// handed to the other stores (the XalorraPostgres module) so that both say exactly the same.
package enum StoreRules {
    /// 404 for a training job that is not there (or another tenant's).
    package static func jobNotFound(_ id: String) -> XalorraError { SQLiteTrainingJobRepository.notFound(id) }

    /// 409 for a job past a user's `XALORRA_MAX_QUEUED_JOBS`.
    package static func tooManyJobs(_ active: Int, limit: Int) -> XalorraError {
        SQLiteTrainingJobRepository.tooManyJobs(active, limit: limit)
    }

    /// The rounds or iterations a request plans, for progress before the first report.
    package static func plannedSteps(_ request: TrainingRequest) -> Int {
        SQLiteTrainingJobRepository.plannedSteps(request)
    }

    /// 404 for a conversation that is not there.
    package static var conversationNotFound: XalorraError { ChatID.notFound }

    /// 403 for another owner's conversation.
    package static let conversationAccessDenied = XalorraError(
        .insufficientPermissions, "Access denied to this conversation")

    /// 401 for writing in the name of an account deleted since the request was authenticated.
    package static let accountDeleted = XalorraError(.authenticationFailed, "This account was deleted")

    /// 409 for a username another account has.
    package static var usernameTaken: XalorraError { SQLiteUserRepository.usernameTaken }

    /// 409 for an e-mail address another account has.
    package static var emailTaken: XalorraError { SQLiteUserRepository.emailTaken }

    /// A `LIKE … ESCAPE '\'` pattern matching any text that contains `text` literally (both stores).
    package static func likePattern(containing text: String) -> String { "%" + likePattern(startingWith: text) }

    /// A `LIKE … ESCAPE '\'` pattern matching any text that starts with `text` literally.
    package static func likePattern(startingWith text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "%"
    }
}
