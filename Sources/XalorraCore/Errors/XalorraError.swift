/// The one error type of the product: every failure of an API operation, local or remote, is one of these.
///
/// A struct with an open set of codes, so new codes do not break callers (as in AsyncHTTPClient's `HTTPClientError`).
/// How a code maps to an HTTP status and to a CLI exit code lives in ``Code`` and nowhere else.
public struct XalorraError: Error, Sendable, Equatable {
    /// The stable, machine-readable kind of failure: the seed APIs' error codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The wire name, as it appears in the error envelope (`VALIDATION_ERROR`).
        public let name: String
        /// The HTTP status the server answers with.
        public let httpStatus: Int
        /// The CLI's exit code: 1 operation failed, 2 bad input, 4 authentication or permission refused.
        public let exitCode: Int32

        public var description: String { name }

        /// A field or the body has the wrong type or an out-of-range value (422).
        public static let validation = Code(name: "VALIDATION_ERROR", httpStatus: 422, exitCode: 2)
        /// The body is not parseable at all, such as malformed JSON (400).
        public static let badRequest = Code(name: "VALIDATION_ERROR", httpStatus: 400, exitCode: 2)
        /// No credentials, or credentials that do not verify (401).
        public static let authenticationFailed = Code(name: "AUTHENTICATION_FAILED", httpStatus: 401, exitCode: 4)
        /// A token that verified but has expired (401).
        public static let tokenExpired = Code(name: "TOKEN_EXPIRED", httpStatus: 401, exitCode: 4)
        /// The caller is known but may not do this (403).
        public static let insufficientPermissions = Code(
            name: "INSUFFICIENT_PERMISSIONS", httpStatus: 403, exitCode: 4)
        /// The named resource does not exist (404).
        public static let notFound = Code(name: "RESOURCE_NOT_FOUND", httpStatus: 404, exitCode: 1)
        /// The method is not served on this path (405).
        public static let methodNotAllowed = Code(name: "METHOD_NOT_ALLOWED", httpStatus: 405, exitCode: 1)
        /// A unique resource already exists (409).
        public static let alreadyExists = Code(name: "RESOURCE_ALREADY_EXISTS", httpStatus: 409, exitCode: 1)
        /// The resource is in a state that forbids the operation, e.g. cancelling a finished job (409).
        public static let conflict = Code(name: "CONFLICT", httpStatus: 409, exitCode: 1)
        /// A training job ran and failed on its data (a job's `error` says why; 422 when trained in-request).
        public static let trainingFailed = Code(name: "TRAINING_FAILED", httpStatus: 422, exitCode: 1)
        /// The body is larger than `XALORRA_MAX_BODY` (413).
        public static let payloadTooLarge = Code(name: "PAYLOAD_TOO_LARGE", httpStatus: 413, exitCode: 2)
        /// Too many requests in the window; the details carry `retry_after` (429).
        public static let rateLimited = Code(name: "RATE_LIMIT_EXCEEDED", httpStatus: 429, exitCode: 1)
        /// Anything unexpected; the message never carries internals (500).
        public static let `internal` = Code(name: "INTERNAL_ERROR", httpStatus: 500, exitCode: 1)
        /// The route exists in the API but its feature has not landed in this version (501).
        public static let unsupported = Code(name: "NOT_IMPLEMENTED", httpStatus: 501, exitCode: 1)
        /// The AI backend is down or answered garbage (503).
        public static let aiUnavailable = Code(name: "AI_SERVICE_UNAVAILABLE", httpStatus: 503, exitCode: 1)
        /// The store cannot be reached (PostgreSQL down); the details carry `retry_after` (503).
        public static let serviceUnavailable = Code(name: "SERVICE_UNAVAILABLE", httpStatus: 503, exitCode: 1)

        /// Every code, for documentation and for mapping a received envelope back to a code.
        public static let all: [Code] = [
            .validation, .badRequest, .authenticationFailed, .tokenExpired, .insufficientPermissions, .notFound,
            .methodNotAllowed, .alreadyExists, .conflict, .trainingFailed, .payloadTooLarge, .rateLimited, .internal, .unsupported,
            .aiUnavailable, .serviceUnavailable,
        ]

        /// The code with wire `name` and `status`, as received in an error envelope; without a known name (the Open
        /// Inference Protocol sends none), the first code of that status; `internal` when neither is known.
        public static func from(name: String, status: Int) -> Code {
            all.first { $0.name == name && $0.httpStatus == status }
                ?? all.first { $0.name == name }
                ?? all.first { $0.httpStatus == status }
                ?? .internal
        }
    }

    /// One problem with one input field, as in the seed's 422 `details`.
    public struct FieldError: Sendable, Equatable {
        /// The field's path (`features[2]`, `email`).
        public let field: String
        /// What is wrong with it.
        public let message: String

        /// Creates a field error.
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence for people, safe to show to any caller.
    public let message: String
    /// The fields at fault, when the input was refused.
    public let details: [FieldError]
    /// A hint for the CLI, such as the command that would fix it.
    public let hint: String?
    /// Seconds until a rate-limited caller may try again (`retry_after` in the envelope).
    public let retryAfter: Int?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, details: [FieldError] = [], hint: String? = nil, retryAfter: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.retryAfter = retryAfter
    }

    /// Throws one 422 `Request validation failed` whose `details` name every field with a problem (a non-nil
    /// message), or returns when there is none.
    public static func check(_ problems: [(field: String, message: String?)]) throws(XalorraError) {
        let details = problems.compactMap { problem in problem.message.map { FieldError(field: problem.field, message: $0) } }
        guard details.isEmpty else { throw invalidFields(details) }
    }

    /// The 422 for field problems, as the Aksara API words it: `Request validation failed` with `details`.
    public static func invalidFields(_ details: [FieldError]) -> XalorraError {
        XalorraError(.validation, "Request validation failed", details: details)
    }

    /// A 422 naming one field.
    public static func invalid(_ field: String, _ message: String) -> XalorraError {
        XalorraError(.validation, "\(field): \(message)", details: [FieldError(field: field, message: message)])
    }
}

extension XalorraError: CustomStringConvertible {
    public var description: String { "\(code.name): \(message)" }
}

/// The `error` member of the envelope, both ways: the server writes it, ``RemoteAPI`` reads it back into the same
/// error, so that a command prints the same message, details and hint offline and with `--url`.
extension XalorraError: JSONRepresentable {
    /// `{"code","message","details"?,"retry_after"?,"hint"?}`.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", .string(code.name)), ("message", .string(message))]
        if !details.isEmpty {
            members.append(("details", .array(details.map {
                .object([("field", .string($0.field)), ("message", .string($0.message))])
            })))
        }
        if let retryAfter { members.append(("retry_after", .int(retryAfter))) }
        if let hint { members.append(("hint", .string(hint))) }
        return .object(members)
    }

    /// The error an envelope `{"error": {"code","message","details"?,"retry_after"?,"hint"?}}` with HTTP `status`
    /// stands for.
    public init(envelope: JSONValue, status: Int) {
        let error = envelope["error"] ?? .null
        let name = error["code"]?.stringValue ?? ""
        // The Open Inference Protocol's errors are `{"error": "message"}`: the status says the rest.
        let message = error["message"]?.stringValue ?? error.stringValue ?? "the server answered \(status)"
        var details: [FieldError] = []
        if case .array(let items)? = error["details"] {
            details = items.compactMap { item in
                guard let field = item["field"]?.stringValue, let text = item["message"]?.stringValue else { return nil }
                return FieldError(field: field, message: text)
            }
        }
        var retryAfter: Int?
        if case .number(.int(let seconds))? = error["retry_after"] { retryAfter = Int(seconds) }
        self.init(
            Code.from(name: name, status: status), message, details: details, hint: error["hint"]?.stringValue,
            retryAfter: retryAfter)
    }
}
