# Recursion producing lists: a functional quicksort (filter pipelines over small lists)
# and all permutations of 8 elements. Measures pipeline start-up, list slicing and
# concatenation. One of the extra shapes (bench/README.md).
class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8

def quicksort(xs):
    if len(xs) <= 1:
        return xs
    pivot = xs[0]
    rest = xs[1:]
    less = [x for x in rest if x < pivot]
    more = [x for x in rest if x >= pivot]
    return quicksort(less) + [pivot] + quicksort(more)

def permutations(xs):
    if len(xs) <= 1:
        return [xs]
    out = []
    for i in range(len(xs)):
        rest = xs[:i] + xs[i + 1:]
        for p in permutations(rest):
            out.append([xs[i]] + p)
    return out

def main():
    rng = Rng(5)
    check = 0
    for rep in range(3):
        xs = [rng.next() % 100000 for _ in range(40000)]
        s = quicksort(xs)
        for i in range(len(s)):
            check = (check + s[i] * (i % 5 + 1)) % 1000000007
    print(check)
    perms = permutations([1, 2, 3, 4, 5, 6, 7, 8])
    h = 0
    for p in perms:
        h = (h * 31 + p[0] * 7 + p[3] * 3 + p[7]) % 1000000007
    print(f"{len(perms)} {h} {perms[12345]}")

main()
