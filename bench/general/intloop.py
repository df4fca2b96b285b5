# Integer loops: gcd by Euclid, primes by trial division, popcount by bit tricks.
# Measures while loops, %, & and calls of small functions. One of the extra shapes
# (bench/README.md).
def gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a

def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True

def popcount(x):
    c = 0
    while x != 0:
        x &= x - 1
        c += 1
    return c

def main():
    g = 0
    for i in range(1, 700):
        for j in range(1, 700):
            g += gcd(i, j)
    print(g)
    count = total = 0
    for n in range(400000):
        if is_prime(n):
            count += 1
            total += n
    print(f"{count} {total}")
    bits = h = 0
    for i in range(800000):
        bits += popcount(i)
        h = (h * 31 + (i ^ (i >> 3))) % 1000003
    print(f"{bits} {h}")

main()
