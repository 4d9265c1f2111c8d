import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The few S3 XML documents Kiln reads (a listing, a multipart upload's id,
/// an error, a batch delete's failures) and writes (a batch delete, a
/// multipart completion). S3's documents are flat enough that collecting
/// each element's text by name is all the parsing they need.
enum S3XML {
    /// Every element's text, in document order, by element name.
    static func texts(_ data: Data) -> [String: [String]] {
        let collector = TextCollector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        _ = parser.parse()
        return collector.texts
    }

    struct Listing {
        var keys: [String]
        var nextContinuationToken: String?
    }

    /// `ListBucketResult` of ListObjectsV2.
    static func listing(_ data: Data) -> Listing {
        let texts = texts(data)
        let truncated = texts["IsTruncated"]?.first == "true"
        return Listing(keys: texts["Key"] ?? [], nextContinuationToken: truncated ? texts["NextContinuationToken"]?.first : nil)
    }

    /// `<Error><Code>NoSuchKey</Code><Message>…</Message></Error>` → code and message.
    static func error(_ data: Data) -> (code: String, message: String)? {
        let texts = texts(data)
        guard let code = texts["Code"]?.first else { return nil }
        return (code, texts["Message"]?.first ?? "")
    }

    static func deleteRequest(keys: [String]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
        for key in keys { xml += "<Object><Key>\(escape(key))</Key></Object>" }
        return xml + "</Delete>"
    }

    static func completeMultipart(etags: [String]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(escape(etag))</ETag></Part>"
        }
        return xml + "</CompleteMultipartUpload>"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private final class TextCollector: NSObject, XMLParserDelegate {
        var texts: [String: [String]] = [:]
        private var current = ""

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            current = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            current += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            texts[elementName, default: []].append(current)
            current = ""
        }
    }
}
