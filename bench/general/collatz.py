# The longest Collatz chain below 600,000, with the chain lengths memoized in a map
# with Int keys. Measures map reads and writes, and non-tail recursion. One of the extra
# shapes (bench/README.md).
import sys
sys.setrecursionlimit(100000)
def chain(n, memo):
    if n == 1:
        return 1
    known = memo.get(n)
    if known is not None:
        return known
    nxt = n // 2 if n % 2 == 0 else 3 * n + 1
    l = 1 + chain(nxt, memo)
    memo[n] = l
    return l
memo = {}
best = 0
best_n = 0
for i in range(1, 600000):
    l = chain(i, memo)
    if l > best:
        best = l
        best_n = i
print(f"{best_n} {best}")
