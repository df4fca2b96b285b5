# Breadth-first search over a 700x700 grid with random walls, three times: a list as the
# queue, distances in a map keyed by cell number. Measures Int-keyed map reads and
# writes (has, get, store) on a large map. One of the extra shapes (bench/README.md).
from collections import deque

W = 700
H = 700

class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8

def bfs(wall, start):
    dist = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        x = cell % W
        y = cell // W
        d = dist[cell]
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nx = x + dx
            ny = y + dy
            if 0 <= nx < W and 0 <= ny < H:
                nc = ny * W + nx
                if not wall[nc] and nc not in dist:
                    dist[nc] = d + 1
                    queue.append(nc)
    return dist

def main():
    rng = Rng(17)
    wall = [rng.next() % 100 < 25 for _ in range(W * H)]
    for s in [0, W * H - 1, (H // 2) * W + W // 2]:
        wall[s] = False
        dist = bfs(wall, s)
        far = 0
        total = 0
        for c, d in dist.items():
            total += d
            if d > far:
                far = d
        print(f"{len(dist)} {far} {total} {dist.get(W * H - 1 - s, -1)}")

main()
