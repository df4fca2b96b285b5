# Longest common subsequence of two 2,000-character strings by dynamic programming on a
# list of lists. Measures string indexing and compares, dp[i][j] reads and writes. One
# of the extra shapes (bench/README.md).
class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8

def random_dna(rng, n):
    return "".join("ACGT"[rng.next() % 4] for _ in range(n))

def lcs(a, b):
    n, m = len(a), len(b)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            elif dp[i - 1][j] >= dp[i][j - 1]:
                dp[i][j] = dp[i - 1][j]
            else:
                dp[i][j] = dp[i][j - 1]
    return dp

def main():
    rng = Rng(11)
    a = random_dna(rng, 2000)
    b = random_dna(rng, 2000)
    dp = lcs(a, b)
    print(dp[2000][2000])
    print(dp[1000][1500] + dp[1999][3])

main()
