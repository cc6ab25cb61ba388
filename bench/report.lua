-- wrk script used by bench/run for every run: prints one machine-readable
-- summary line when the run is done, so the harness need not parse wrk's
-- human-oriented report (whose units change with magnitude).
--
--   BENCH requests=N bytes=N duration_us=N connect=N read=N write=N status=N timeout=N
--
-- requests counts responses received; status counts responses that were not
-- 2xx/3xx; connect/read/write/timeout are socket errors.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.bytes, summary.duration,
      e.connect, e.read, e.write, e.status, e.timeout))
end
