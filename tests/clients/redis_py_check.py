"""redis-py 5 against our server, as its users would use it.

Run by tests/clients.rs with the server's port. Exits non-zero (with the failing step) when
anything behaves unlike Redis; prints what the library sent that we do not support, if any.
"""
import sys

import redis


def check(label, got, want):
    if got != want:
        sys.exit(f"{label}: got {got!r}, want {want!r}")


def exercise(r, label):
    check(f"{label} ping", r.ping(), True)
    check(f"{label} set", r.set("greeting", "hello", ex=100), True)
    check(f"{label} get", r.get("greeting"), b"hello")
    check(f"{label} ttl positive", 0 < r.ttl("greeting") <= 100, True)
    check(f"{label} set nx on existing", r.set("greeting", "x", nx=True), None)
    check(f"{label} incr", r.incr("counter"), 1)
    check(f"{label} incrbyfloat", r.incrbyfloat("counter", 1.5), 2.5)
    check(f"{label} mget", r.mget("greeting", "nosuch"), [b"hello", None])
    check(f"{label} exists", r.exists("greeting", "nosuch"), 1)
    check(f"{label} type", r.type("greeting"), b"string")
    check(f"{label} delete", r.delete("greeting", "counter"), 2)
    info = r.info()
    check(f"{label} info redis_version", info.get("redis_version"), "7.0.15")
    check(f"{label} info has uptime", "uptime_in_seconds" in info, True)
    check(f"{label} info keyspace section", isinstance(r.info("keyspace"), dict), True)
    check(f"{label} config get", r.config_get("maxmemory"), {"maxmemory": "0"})
    with r.pipeline(transaction=False) as pipe:
        for i in range(100):
            pipe.set(f"p:{i}", i)
        for i in range(100):
            pipe.get(f"p:{i}")
        results = pipe.execute()
    check(f"{label} pipeline sets", results[:100], [True] * 100)
    check(f"{label} pipeline gets", results[100:], [str(i).encode() for i in range(100)])
    keys = sorted(r.scan_iter(match="p:*", count=10))
    check(f"{label} scan_iter", len(keys), 100)
    check(f"{label} cleanup", r.delete(*keys), 100)
    check(f"{label} client id", isinstance(r.client_id(), int), True)
    # What operators reach for: counters, the slow log, the latency monitor, DEBUG.
    r.config_resetstat()
    r.set("seen", "v")
    r.get("seen")
    r.get("unseen")
    stats = r.info("stats")
    check(f"{label} keyspace_hits", (stats["keyspace_hits"], stats["keyspace_misses"]), (1, 1))
    check(f"{label} net input counted", stats["total_net_input_bytes"] > 0, True)
    check(f"{label} slowlog len", isinstance(r.slowlog_len(), int), True)
    check(f"{label} latency reset", isinstance(r.latency_reset(), int), True)
    r.execute_command("DEBUG", "SLEEP", "0.01")
    latest = r.latency_latest()
    check(f"{label} latency latest event", [e[0] for e in latest], [b"command"])
    check(f"{label} latency history", len(r.latency_history("command")), 1)
    # redis-py parses the line into a dict in RESP2 only; in RESP3 it hands back the line.
    obj = r.debug_object("seen")
    if not isinstance(obj, dict):
        obj = dict(f.split(":", 1) for f in obj.decode().split(" ")[1:])
    check(f"{label} debug object", obj["encoding"], "embstr")
    check(f"{label} client no-touch", r.client_no_touch("ON"), b"OK")
    check(f"{label} client no-touch off", r.client_no_touch("OFF"), b"OK")
    r.delete("seen")
    check(f"{label} echo binary", r.echo(b"\x00\xff\r\n"), b"\x00\xff\r\n")


def main():
    port = int(sys.argv[1])
    # Default mode (RESP2), with a connection pool shared by two clients.
    pool = redis.ConnectionPool(host="127.0.0.1", port=port, db=0)
    first, second = redis.Redis(connection_pool=pool), redis.Redis(connection_pool=pool)
    exercise(first, "resp2")
    check("pool: second client sees the first's writes", (first.set("shared", 1), second.get("shared")), (True, b"1"))
    second.delete("shared")
    pool.disconnect()

    # RESP3: redis-py sends HELLO 3 and decodes maps, sets, doubles and nulls natively.
    r3 = redis.Redis(host="127.0.0.1", port=port, protocol=3)
    exercise(r3, "resp3")
    check("resp3 hello proto", r3.execute_command("HELLO", "3")[b"proto"], 3)
    r3.close()

    # A database other than 0, selected on connect.
    r1 = redis.Redis(host="127.0.0.1", port=port, db=1)
    check("db 1 set", r1.set("in-db-1", "x"), True)
    check("db 0 does not see it", redis.Redis(host="127.0.0.1", port=port).exists("in-db-1"), 0)
    r1.flushdb()
    r1.close()
    print(f"redis-py {redis.__version__}: RESP2, RESP3, pool, pipeline, scan, info, select, slowlog, latency, debug object, client no-touch: all as Redis")


main()
