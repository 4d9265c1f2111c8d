import HTTPAPI
import Testing

struct PrometheusTextTests {
    @Test func countersAndHistogramsSumAndGaugesAreTakenOnce() {
        let server = """
            # TYPE kiln_jobs gauge
            kiln_jobs{status="queued"} 3
            # TYPE http_requests_total counter
            http_requests_total{code="200"} 10
            """
        let workerA = """
            # TYPE kiln_stage_seconds histogram
            kiln_stage_seconds_bucket{op="thumbnail",le="0.1"} 2
            kiln_stage_seconds_bucket{op="thumbnail",le="+Inf"} 3
            kiln_stage_seconds_sum{op="thumbnail"} 0.5
            kiln_stage_seconds_count{op="thumbnail"} 3
            # TYPE kiln_jobs gauge
            kiln_jobs{status="queued"} 99
            """
        let workerB = """
            # TYPE kiln_stage_seconds histogram
            kiln_stage_seconds_bucket{op="thumbnail",le="0.1"} 1
            kiln_stage_seconds_bucket{op="thumbnail",le="+Inf"} 1
            kiln_stage_seconds_sum{op="thumbnail"} 0.25
            kiln_stage_seconds_count{op="thumbnail"} 1
            kiln_stage_seconds_count{op="resize"} 4
            """
        let merged = PrometheusText.merge([server, workerA, workerB])
        let lines = Set(merged.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"kiln_stage_seconds_count{op="thumbnail"} 4"#))
        #expect(lines.contains(#"kiln_stage_seconds_bucket{op="thumbnail",le="+Inf"} 4"#))
        #expect(lines.contains(#"kiln_stage_seconds_sum{op="thumbnail"} 0.75"#))
        #expect(lines.contains(#"kiln_stage_seconds_count{op="resize"} 4"#))
        #expect(lines.contains(#"kiln_jobs{status="queued"} 3"#), "a gauge is the first text's")
        #expect(lines.contains(#"http_requests_total{code="200"} 10"#))
        #expect(merged.components(separatedBy: "# TYPE kiln_stage_seconds histogram").count == 2, "one TYPE line per family:\n\(merged)")
        #expect(!PrometheusText.merge([workerA], keepGauges: false).contains("kiln_jobs"))
    }
}
