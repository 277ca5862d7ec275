"""M/M/1 queue in SimPy: the same model as tock's BenchmarkMM1 (bench/mm1_test.go).

Arrivals at rate LAMBDA, one server (a Resource of capacity 1, FIFO) at rate
MU, each customer a process of its own. Prints simulated events per second
of wall time (two per customer: arrival and departure, as the Go benchmark
counts them) and the mean wait in queue (theory: rho/(mu-lambda) = 9).

The script runs on SimPy 3 or 4 (`pip install simpy`, the `simpy` package)
and on SimPy 2 (Debian's `apt install python3-simpy`, the `SimPy` package);
it uses whichever it finds, preferring the newer, and prints which.

Not run in CI. To compare with tock on one machine:

    python3 bench/simpy/mm1.py
    cd bench && go test -run '^$' -bench BenchmarkMM1 -benchtime 5x

and divide tock's events/s by this script's.
"""
import random
import time

LAMBDA = 0.9
MU = 1.0
N = 100_000
REPEAT = 3


def run_simpy3(simpy, seed):
    rnd = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    waits = []

    def customer(service):
        arrive = env.now
        with server.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(service)

    def source():
        for _ in range(N):
            env.process(customer(rnd.expovariate(MU)))
            yield env.timeout(rnd.expovariate(LAMBDA))

    env.process(source())
    env.run()
    return sum(waits) / len(waits)


def run_simpy2(S, seed):
    rnd = random.Random(seed)
    waits = []
    S.initialize()
    server = S.Resource(capacity=1)

    class Customer(S.Process):
        def visit(self, service):
            arrive = S.now()
            yield S.request, self, server
            waits.append(S.now() - arrive)
            yield S.hold, self, service
            yield S.release, self, server

    class Source(S.Process):
        def generate(self):
            for _ in range(N):
                c = Customer()
                S.activate(c, c.visit(rnd.expovariate(MU)))
                yield S.hold, self, rnd.expovariate(LAMBDA)

    src = Source()
    S.activate(src, src.generate())
    S.simulate(until=1e12)
    return sum(waits) / len(waits)


def main():
    try:
        import simpy

        name, run = "SimPy " + getattr(simpy, "__version__", "3+"), lambda s: run_simpy3(simpy, s)
    except ImportError:
        import SimPy
        import SimPy.Simulation as S

        name, run = "SimPy " + getattr(SimPy, "__version__", "2"), lambda s: run_simpy2(S, s)
    print(f"{name}, M/M/1, {N:,} customers, rho = {LAMBDA / MU}")
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
