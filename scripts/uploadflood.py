#!/usr/bin/env python3
"""N uploads at once against a running `kiln serve`: every connection is opened
first, then all send together. Prints the answers' statuses and the time.

    uploadflood.py PORT KEY FILE N
"""
import asyncio, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, key, path, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
body = open(path, 'rb').read()
head = (f"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
statuses = {}
async def one(gate):
    try:
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        await gate.wait()  # every connection open before any sends: 10,000 at once
        writer.write(head + body)
        await writer.drain()
        line = await reader.readline()
        status = line.split()[1].decode() if line else 'closed'
        await reader.read()
        writer.close()
    except Exception as e:
        status = type(e).__name__
    statuses[status] = statuses.get(status, 0) + 1
async def main():
    gate = asyncio.Event()
    tasks = [asyncio.create_task(one(gate)) for _ in range(n)]
    await asyncio.sleep(2)
    started = time.time()
    gate.set()
    await asyncio.gather(*tasks)
    print({"uploads": n, "seconds": round(time.time() - started, 1), "statuses": statuses})
asyncio.run(main())
