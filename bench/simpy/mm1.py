"""M/M/1 queue in SimPy: the same model as tock's BenchmarkMM1 (bench/mm1_test.go).

Arrivals at rate LAMBDA, one server (a simpy.Resource of capacity 1) at rate
MU, each customer a process of its own. Prints simulated events per second
of wall time (two per customer: arrival and departure, as the Go benchmark
counts them) and the mean wait in queue (theory: rho/(mu-lambda) = 9).

Not run in CI. To compare with tock on one machine:

    pip install simpy
    python3 bench/simpy/mm1.py
    cd bench && go test -run '^$' -bench BenchmarkMM1 -benchtime 5x

and divide tock's events/s by this script's.
"""
import random
import time

import simpy

LAMBDA = 0.9
MU = 1.0
N = 100_000
REPEAT = 3


def customer(env, server, service, waits):
    arrive = env.now
    with server.request() as req:
        yield req
        waits.append(env.now - arrive)
        yield env.timeout(service)


def source(env, server, rnd, waits):
    for _ in range(N):
        service = rnd.expovariate(MU)
        env.process(customer(env, server, service, waits))
        yield env.timeout(rnd.expovariate(LAMBDA))


def run(seed):
    rnd = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    waits = []
    env.process(source(env, server, rnd, waits))
    env.run()
    return sum(waits) / len(waits)


def main():
    best = None
    for seed in range(1, REPEAT + 1):
        start = time.perf_counter()
        wait = run(seed)
        elapsed = time.perf_counter() - start
        rate = 2 * N / elapsed
        best = rate if best is None else max(best, rate)
        print(f"seed {seed}: {rate:,.0f} events/s, mean wait {wait:.3f}")
    print(f"best: {best:,.0f} events/s")


if __name__ == "__main__":
    main()
