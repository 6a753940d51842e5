/// The OpenAI API's error object, `{"error":{"message","type","param","code"}}`, both ways: the server writes it for
/// every failure under `/v1/` (so OpenAI clients raise their own exception classes, by status), ``RemoteAPI`` reads
/// it back into the same error.
extension XalorraError {
    /// The error object. `type` follows OpenAI's (`invalid_request_error`, `authentication_error`, `requests` for a
    /// rate limit, `server_error`); `code` is OpenAI's where one exists (`invalid_api_key`, `model_not_found`,
    /// `rate_limit_exceeded`), else xalorra's own code in lower case; `param` names the first field at fault.
    public var openAIJSON: JSONValue {
        let param = details.first?.field
        let message: String
        if details.count > 1 || (!details.isEmpty && self.message == "Request validation failed") {
            message = details.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        } else {
            message = self.message
        }
        return .object([("error", .object([
            ("message", .string(message)), ("type", .string(openAIType)), ("param", .string(param)),
            ("code", .string(openAICode(param: param))),
        ]))])
    }

    /// The error a failed answer's body stands for, read in the form its route writes (``Route/ErrorFormat``): the
    /// envelope and the inference protocol's `{"error"}` by ``init(envelope:status:)``, OpenAI's object by
    /// ``init(openAI:status:)``.
    public init(answer json: JSONValue, format: Route.ErrorFormat, status: Int) {
        switch format {
        case .envelope, .inference: self.init(envelope: json, status: status)
        case .openAI: self.init(openAI: json, status: status)
        }
    }

    /// The error an OpenAI error object with HTTP `status` stands for (`status` 0 for one sent part way through a
    /// stream): the code by its name where xalorra wrote it, else by status; `param` as its detail.
    public init(openAI json: JSONValue, status: Int) {
        let error = json["error"] ?? .null
        let message = error["message"]?.stringValue ?? "the server answered \(status)"
        let name = error["code"]?.stringValue ?? ""
        let code: Code =
            switch name {
            case "invalid_api_key": .authenticationFailed
            case "rate_limit_exceeded": .rateLimited
            case "model_not_found": .notFound
            default:
                Code.all.first { $0.name == name.uppercased() && (status == 0 || $0.httpStatus == status) }
                    ?? Code.all.first { $0.httpStatus == status } ?? .internal
            }
        var details: [FieldError] = []
        if let param = error["param"]?.stringValue {
            let prefix = "\(param): "
            let text = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
            details = [FieldError(field: param, message: text)]
        }
        self.init(code, message, details: details)
    }

    private var openAIType: String {
        switch code.httpStatus {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 429: "requests"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    private func openAICode(param: String?) -> String {
        switch code {
        case .authenticationFailed: "invalid_api_key"
        case .rateLimited: "rate_limit_exceeded"
        case .notFound where param == "model": "model_not_found"
        default: code.name.lowercased()
        }
    }
}
