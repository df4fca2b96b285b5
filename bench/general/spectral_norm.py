# Benchmarks Game spectral-norm: the largest eigenvalue of an infinite
# matrix by the power method. Same output as spectral_norm.wal.
from math import sqrt

N = 500


def eval_a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1)


def times(u, v):
    n = len(u)
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += eval_a(i, j) * u[j]
        v[i] = s


def times_transposed(u, v):
    n = len(u)
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += eval_a(j, i) * u[j]
        v[i] = s


def times_ata(u, v, tmp):
    times(u, tmp)
    times_transposed(tmp, v)


def main():
    u = [1.0] * N
    v = [0.0] * N
    tmp = [0.0] * N
    for _ in range(10):
        times_ata(u, v, tmp)
        times_ata(v, u, tmp)
    vbv = vv = 0.0
    for i in range(N):
        vbv += u[i] * v[i]
        vv += v[i] * v[i]
    print(f"{sqrt(vbv / vv):.9f}")


main()
