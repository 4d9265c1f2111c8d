import Foundation
import NIOCore
import NIOFoundationCompat

extension S3BlobStore {
    /// A large file in parts: CreateMultipartUpload, `partConcurrency` UploadParts
    /// at a time (each part read from the file when its turn comes, so memory
    /// stays at a few parts whatever the file's size), CompleteMultipartUpload.
    /// On any failure the upload is aborted, so S3 keeps no orphaned parts.
    func putInParts(key: String, file: String, size: Int) async throws {
        // S3 allows 10,000 parts: a file beyond 10,000 × partSize takes larger parts.
        let part = max(partSize, (size + 9_999) / 10_000)
        let parts = (size + part - 1) / part
        let created = try await expect("PUT", key, try await send(.POST, key: key, query: [("uploads", "")]), [200])
        guard let uploadID = S3XML.texts(Data(buffer: created))["UploadId"]?.first, !uploadID.isEmpty else {
            throw S3Error(operation: "PUT", key: key, status: 200, code: "NoUploadId", message: "CreateMultipartUpload answered without an UploadId")
        }
        do {
            var etags = [String](repeating: "", count: parts)
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var next = 0
                while next < min(partConcurrency, parts) {
                    let number = next
                    group.addTask { (number, try await uploadPart(key: key, uploadID: uploadID, number: number, file: file, part: part, size: size)) }
                    next += 1
                }
                while let (number, etag) = try await group.next() {
                    etags[number] = etag
                    if next < parts {
                        let number = next
                        group.addTask { (number, try await uploadPart(key: key, uploadID: uploadID, number: number, file: file, part: part, size: size)) }
                        next += 1
                    }
                }
            }
            let body = ByteBuffer(string: S3XML.completeMultipart(etags: etags))
            let answer = try await expect("PUT", key, try await send(.POST, key: key, query: [("uploadId", uploadID)], body: body), [200])
            // CompleteMultipartUpload can fail after its 200 has been sent: the error is in the body.
            if let failure = S3XML.error(Data(buffer: answer)) {
                throw S3Error(operation: "PUT", key: key, status: 200, code: failure.code, message: failure.message)
            }
        } catch {
            _ = try? await send(.DELETE, key: key, query: [("uploadId", uploadID)]).body.collect(upTo: 64 * 1024)
            throw error
        }
    }

    /// One part (numbered from 0 here, from 1 for S3); its ETag.
    private func uploadPart(key: String, uploadID: String, number: Int, file: String, part: Int, size: Int) async throws -> String {
        let offset = number * part
        let body = try await Self.read(file: file, offset: offset, length: min(part, size - offset))
        let response = try await send(.PUT, key: key, query: [("partNumber", String(number + 1)), ("uploadId", uploadID)], body: body)
        try await expect("PUT", key, response, [200])
        guard let etag = response.headers.first(name: "etag") else {
            throw S3Error(operation: "PUT", key: key, status: 200, code: "NoETag", message: "part \(number + 1) was answered without an ETag")
        }
        return etag
    }
}
