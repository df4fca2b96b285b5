# N-queens: count the placements of 12 queens by backtracking over three lists of
# flags (columns and both diagonals). Measures recursion, list indexing and compound
# conditions. One of the extra shapes (bench/README.md).
def place(row, n, cols, d1, d2):
    if row == n:
        return 1
    count = 0
    for c in range(n):
        if not cols[c] and not d1[row + c] and not d2[row - c + n]:
            cols[c] = True; d1[row + c] = True; d2[row - c + n] = True
            count += place(row + 1, n, cols, d1, d2)
            cols[c] = False; d1[row + c] = False; d2[row - c + n] = False
    return count
n = 12
print(place(0, n, [False] * n, [False] * (2 * n), [False] * (2 * n + 1)))
