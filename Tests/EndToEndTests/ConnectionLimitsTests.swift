import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// What a client that sends slowly, or not at all, can hold of the server.
@Suite(.serialized, .ownThreads)
struct ConnectionLimitsTests {
    /// A `kiln serve` process with short deadlines (the in-process test client keeps one connection,
    /// which a 1.5 s head timeout would close under it). Returns it and its port.
    static func server(name: String) async throws -> (KilnProcess, Int) {
        let port = try WebhookTests.freePort()
        let server = try KilnProcess(["serve", "--no-workers"], configuration: try TestEnvironment.configuration(), name: name, environment: [
            "KILN_PORT": "\(port)", "KILN_HTTP_HEAD_TIMEOUT_SECONDS": "1.5", "KILN_HTTP_BODY_STALL_SECONDS": "2",
            "KILN_HTTP_MIN_BODY_BYTES_PER_SECOND": "4096",
        ])
        _ = try await python("""
            import json, time, urllib.request, sys
            deadline = time.time() + 60
            while True:
                try:
                    if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % sys.argv[1], timeout=2).status == 200: break
                except Exception:
                    pass
                if time.time() > deadline: raise SystemExit('not ready')
                time.sleep(0.1)
            print(json.dumps({}))
            """, ["\(port)"])
        return (server, port)
    }

    /// Runs Python with the server's port, the key and `arguments`; its last line of output, as JSON.
    static func python(_ script: String, _ arguments: [String]) async throws -> JSONValue {
        let run = try await runProgramOffPool("python3", ["-c", script] + arguments)
        guard run.status == 0, let last = run.output.split(separator: "\n").last else {
            throw HarnessError("python failed (\(run.status)): \(run.output) \(run.errors)")
        }
        return try JSONValue.decode(Data(last.utf8))
    }

    /// How long until the server closes a connection that sends `head` and then `drip` bytes one every `every` s.
    static let dripper = #"""
        import json, socket, sys, time
        port, head, drip, every = int(sys.argv[1]), sys.argv[2].encode().decode('unicode_escape').encode('latin-1'), sys.argv[3].encode(), float(sys.argv[4])
        s = socket.create_connection(('127.0.0.1', port))
        s.settimeout(0.05)
        start = time.time()
        s.sendall(head)
        closed = None
        sent = 0
        while time.time() - start < 20:
            try:
                data = s.recv(65536)
                if data == b'':
                    closed = time.time() - start
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = time.time() - start
                break
            if drip and time.time() - start >= sent * every:
                try:
                    s.sendall(drip[sent % len(drip):sent % len(drip) + 1])
                    sent += 1
                except (BrokenPipeError, ConnectionResetError):
                    closed = time.time() - start
                    break
        print(json.dumps({'closed': closed, 'sent': sent}))
        """#

    @Test func idleAndSlowConnectionsAreClosedWithinTheirTimeouts() async throws {
        let (server, serverPort) = try await Self.server(name: "deadlines")
        do {
            let port = "\(serverPort)"
            // Connected, nothing sent: closed at the head timeout (1.5 s).
            let idle = try await Self.python(Self.dripper, [port, "", "", "1"])
            let idleClosed = try #require(idle["closed"]?.doubleValue, "an idle connection stayed open: \(idle)")
            #expect(idleClosed >= 1.2 && idleClosed < 3.5, "\(idle)")
            // A head sent a byte every 0.3 s never completes: closed at the same timeout.
            let slowHead = try await Self.python(Self.dripper, [port, "", "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0.3"])
            let slowHeadClosed = try #require(slowHead["closed"]?.doubleValue, "a dripped head stayed open: \(slowHead)")
            #expect(slowHeadClosed < 3.5, "\(slowHead)")
            // An upload whose body stops: closed once it has sent nothing for 2 s.
            let head = "POST /v1/uploads HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer key-a\\r\\nContent-Type: application/octet-stream\\r\\nContent-Length: 1000000\\r\\n\\r\\nabc"
            let stalled = try await Self.python(Self.dripper, [port, head, "", "1"])
            let stalledClosed = try #require(stalled["closed"]?.doubleValue, "a stalled body stayed open: \(stalled)")
            #expect(stalledClosed >= 1.5 && stalledClosed < 5, "\(stalled)")
            // A body dripped at 10 bytes a second (under 4 KiB/s): closed after one 2 s window.
            let dripped = try await Self.python(Self.dripper, [port, head, "0123456789", "0.1"])
            let drippedClosed = try #require(dripped["closed"]?.doubleValue, "a dripped body stayed open: \(dripped)")
            #expect(drippedClosed < 5, "\(dripped)")
            // A keep-alive connection between requests is idle too: closed 1.5 s after its answer.
            let keepAlive = try await Self.python(Self.dripper, [port, "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", "", "1"])
            let keptClosed = try #require(keepAlive["closed"]?.doubleValue, "\(keepAlive)")
            #expect(keptClosed >= 1.2 && keptClosed < 3.5, "\(keepAlive)")
        }
        server.signal(SIGTERM)
        _ = await server.waitForExit(timeout: .seconds(30))
    }

    /// A PATCH that stops halfway is cut off at the stall timeout, and its upload resumes from what arrived.
    @Test func aStalledTusPatchLeavesTheUploadResumable() async throws {
        let script = #"""
            import json, socket, sys, time, requests
            port = int(sys.argv[1])
            base = 'http://127.0.0.1:%d' % port
            auth = {'Authorization': 'Bearer key-a', 'Tus-Resumable': '1.0.0'}
            data = open(sys.argv[2], 'rb').read()
            created = requests.post(base + '/v1/uploads/tus', headers=dict(auth, **{'Upload-Length': str(len(data))}))
            url = created.headers['Location']
            path = url if url.startswith('/') else '/' + url.split('/', 3)[3]
            s = socket.create_connection(('127.0.0.1', port))
            half = len(data) // 2
            s.sendall(('PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-a\r\nTus-Resumable: 1.0.0\r\n'
                       'Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n'
                       % (path, len(data))).encode() + data[:half])
            start = time.time()
            s.settimeout(15)
            try:
                while s.recv(65536):
                    pass
            except Exception:
                pass
            cut = time.time() - start
            offset = int(requests.head(base + path, headers=auth).headers['Upload-Offset'])
            rest = requests.patch(base + path, data=data[offset:], headers=dict(auth, **{
                'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': str(offset)}))
            final = requests.head(base + path, headers=auth)
            print(json.dumps({'cut': cut, 'offset': offset, 'half': half, 'resumed': rest.status_code,
                              'final': int(final.headers['Upload-Offset']), 'size': len(data),
                              'media': final.headers.get('Kiln-Media-Id')}))
            """#
        let (server, port) = try await Self.server(name: "tus-stall")
        let result = try await Self.python(script, ["\(port)", Fixture.path("clip.mp4")])
        let cut = try #require(result["cut"]?.doubleValue)
        #expect(cut < 6, "the stalled PATCH was cut off: \(result)")
        #expect(result["resumed"] == 204 && result["final"] == result["size"] && result["media"]?.stringValue != nil,
                "the upload resumed and completed: \(result)\n\(server.log.suffix(1500))")
        server.signal(SIGTERM)
        _ = await server.waitForExit(timeout: .seconds(30))
    }

    /// Event streams and long polls are capped per key: past the cap a stream gets 429, a long poll answers at once.
    @Test func eventStreamsAndLongPollsAreCappedPerKey() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.maxLongRequestsPerKey = 2
        let script = #"""
            import json, socket, sys, time
            port = int(sys.argv[1])
            def open_stream(key):
                s = socket.create_connection(('127.0.0.1', port))
                s.sendall(('GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n' % key).encode())
                # Only a guard: the server answers in ~1 s at most, but this server runs inside the test
                # process, whose threads the other suites keep busy (5 s timed out once in a clean clone).
                s.settimeout(30)
                return s, s.recv(4096).split(b'\r\n')[0].decode()
            a1, first = open_stream('key-a')
            a2, second = open_stream('key-a')
            a3, third = open_stream('key-a')
            b1, other = open_stream('key-b')
            a1.close()
            # At the cap, the server makes the key's streams write, so the one whose client left ends at once.
            start = time.time()
            a4, after = open_stream('key-a')
            print(json.dumps({'first': first, 'second': second, 'third': third, 'otherKey': other, 'afterClose': after,
                              'freedAfter': time.time() - start}))
            """#
        try await Harness.run(configuration: configuration) { h in
            let port = "\(try #require(h.client.port))"
            let result = try await Self.python(script, [port])
            #expect(result["first"]?.stringValue?.contains("200") == true && result["second"]?.stringValue?.contains("200") == true, "\(result)")
            #expect(result["third"]?.stringValue?.contains("429") == true, "the third stream of one key: \(result)")
            #expect(result["otherKey"]?.stringValue?.contains("200") == true, "another key has its own cap: \(result)")
            #expect(result["afterClose"]?.stringValue?.contains("200") == true, "a closed stream gives its place back: \(result)")
        }
    }
}

/// 2,000 uploads that ask to wait and then stall, against a real `kiln serve`:
/// they are counted by admission like any upload (memory stays bounded), and
/// each is closed at the body stall deadline, after which the server answers again.
@Suite(.ownThreads) struct StalledUploadsTests {
    @Test func twoThousandStalledUploadsThatAskToWaitStayWithinTheMemoryBound() async throws {
        let configuration = try TestEnvironment.configuration()
        let port = try WebhookTests.freePort()
        let server = try KilnProcess(["serve", "--no-workers"], configuration: configuration, name: "stalled-uploads", environment: [
            "KILN_PORT": "\(port)", "KILN_HTTP_BODY_STALL_SECONDS": "5", "KILN_HTTP_HEAD_TIMEOUT_SECONDS": "30",
        ])
        let script = #"""
            import json, resource, socket, sys, time, urllib.request
            port, pid = int(sys.argv[1]), int(sys.argv[2])
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 10000), hard))
            def rss():
                for line in open('/proc/%d/status' % pid):
                    if line.startswith('VmRSS:'):
                        return int(line.split()[1]) * 1024
            def get(path, timeout):
                start = time.time()
                try:
                    r = urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:%d%s' % (port, path),
                                               headers={'Authorization': 'Bearer key-a'}), timeout=timeout)
                    return r.status, time.time() - start
                except Exception as e:
                    return str(e), time.time() - start
            deadline = time.time() + 60
            while get('/healthz', 2)[0] != 200:
                if time.time() > deadline: raise SystemExit('not ready')
                time.sleep(0.2)
            before = rss()
            head = ('POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-a\r\nPrefer: wait=30\r\n'
                    'Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n').encode()
            body = b'\xff\xd8\xff' + b'k' * (8 * 1024)
            socks, refused = [], 0
            for i in range(2000):
                try:
                    s = socket.create_connection(('127.0.0.1', port), timeout=10)
                    s.sendall(head + body)
                    socks.append(s)
                except OSError:
                    refused += 1
            opened = time.time()
            peak = before
            while time.time() - opened < 3:
                peak = max(peak, rss())
                time.sleep(0.2)
            # Another client meanwhile: answered once the stalled ones reach their deadline (5 s).
            status, took = get('/v1/jobs', 30)
            # Those parked behind the first 1,024 are admitted as places free, and stall out in turn.
            open_socks, closed = list(socks), 0
            for s in open_socks:
                s.settimeout(0)
            waited = time.time()
            while open_socks and time.time() - waited < 25:
                still = []
                for s in open_socks:
                    try:
                        if s.recv(65536) == b'':
                            closed += 1
                        else:
                            still.append(s)
                    except BlockingIOError:
                        still.append(s)
                    except OSError:
                        closed += 1
                open_socks = still
                peak = max(peak, rss())
                time.sleep(0.5)
            print(json.dumps({'before': before, 'peak': peak, 'opened': len(socks), 'refused': refused,
                              'other': status, 'otherSeconds': took, 'closedByServer': closed}))
            """#
        let run = try await runProgramOffPool("python3", ["-c", script, "\(port)", "\(server.pid)"])
        let last = try #require(run.output.split(separator: "\n").last, "\(run.errors)\n\(server.log.suffix(2000))")
        let result = try JSONValue.decode(Data(last.utf8))
        let before = try #require(result["before"]?.doubleValue), peak = try #require(result["peak"]?.doubleValue)
        print("2,000 stalled uploads asking to wait: RSS \(Int(before) >> 20) MB → peak \(Int(peak) >> 20) MB; \(result)")
        #expect(result["opened"] == 2000, "\(result)")
        #expect(peak - before < 200 * 1_048_576, "RSS grew \(Int(peak - before) >> 20) MB: \(result)")
        #expect(result["other"] == 200 && (result["otherSeconds"]?.doubleValue ?? 99) < 15, "another client was answered: \(result)")
        #expect(result["closedByServer"] == 2000, "the stalled uploads were closed at their deadline: \(result)")
        server.signal(SIGTERM)
        _ = await server.waitForExit(timeout: .seconds(30))
    }
}
