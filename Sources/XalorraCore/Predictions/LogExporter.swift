/// Reads the prediction log for an export a page at a time, by id (`WHERE id > last ORDER BY id LIMIT n`), and
/// turns each page into the bytes of one chunk: memory stays at one page whatever the log's size, and a consumer
/// that stops pulling stops the reads. Rows logged after the export began are left out (it ends at the newest id
/// it saw then), so an export of a busy server finishes.
actor LogExporter {
    private let repository: any PredictionRepository
    private let filters: LogQuery
    private let format: LogExportFormat
    /// The newest id when the export began: the last one it may write.
    private let newest: Int64
    /// The id of the last row read.
    private var last: Int64 = 0
    private var headerWritten = false
    private var finished = false

    /// Creates an export of the rows matching `filters` (tenant already scoped to the caller) up to id `newest`.
    init(repository: any PredictionRepository, filters: LogQuery, format: LogExportFormat, newest: Int64) {
        self.repository = repository
        self.filters = filters
        self.format = format
        self.newest = newest
    }

    /// The next chunk: the header with the first page, then a page at a time; `nil` after the last.
    func next() async throws(XalorraError) -> [UInt8]? {
        guard !finished else { return nil }
        var out: [UInt8] = []
        if !headerWritten {
            headerWritten = true
            format.appendHeader(into: &out)
        }
        let page = newest > last ? try await repository.records(after: last, matching: filters) : []
        out.reserveCapacity(out.count + page.count * 160)
        for record in page {
            guard record.id <= newest else { break }
            format.append(record, into: &out)
        }
        last = page.last?.id ?? last
        if page.count < filters.limit || last >= newest { finished = true }
        return out.isEmpty ? nil : out
    }
}
