# Matrix product of two 300x300 Float matrices held as lists of rows, summed.
# Measures nested counted loops, list indexing and `row[j] += a * b[j]`. One of the
# extra shapes (bench/README.md).
def matrix(n, seed):
    return [[((i * 7 + j * 3 + seed) % 11) / 10.0 for j in range(n)] for i in range(n)]
def mul(a, b, n):
    c = []
    for i in range(n):
        ai = a[i]
        row = [0.0] * n
        for k in range(n):
            aik = ai[k]
            bk = b[k]
            for j in range(n):
                row[j] += aik * bk[j]
        c.append(row)
    return c
n = 300
c = mul(matrix(n, 1), matrix(n, 2), n)
s = 0.0
for row in c:
    for x in row:
        s += x
print("%.4f" % s)
