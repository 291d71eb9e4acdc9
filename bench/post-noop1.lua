-- wrk script of bench/api.sh and bench/pg.sh: start bench_noop1
-- (bench/noop1.yaml) with every request.
wrk.method = "POST"
wrk.body = '{"workflow_name": "bench_noop1"}'
wrk.headers["Content-Type"] = "application/json"
