# CSV-like text: build LINES lines `id,name,city,amount` with a seeded LCG,
# parse each one, aggregate per city and print a padded report. Same output
# as csv_lines.wal.
LINES = 200000
NAMES = ["Ann", "Bob", "Carla", "Dmitri", "Eve", "Farid", "Gao", "Hana",
         "Ivan", "Jules", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Pia"]
CITIES = ["Amsterdam", "Berlin", "Cairo", "Denver", "Lima", "Lisbon",
          "Nairobi", "Osaka", "Oslo", "Perth", "Quito", "Seoul"]


class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8


class CityStats:
    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.best = 0.0
        self.best_id = 0

    def add(self, id, amount):
        self.count += 1
        self.total += amount
        if amount > self.best:
            self.best = amount
            self.best_id = id


def make_lines(rng):
    lines = []
    for id in range(1, LINES + 1):
        name = NAMES[rng.next() % len(NAMES)]
        city = CITIES[rng.next() % len(CITIES)]
        cents = rng.next() % 100000
        lines.append(f"{id},{name},{city},{cents // 100}.{cents % 100:02d}")
    return lines


def main():
    lines = make_lines(Rng(7))
    stats = {}
    for line in lines:
        fields = line.split(",")
        city = fields[2]
        if city not in stats:
            stats[city] = CityStats()
        stats[city].add(int(fields[0]), float(fields[3]))
    print(f"{'city':<10}{'count':>8}{'total':>14}{'average':>10}{'best':>10}{'id':>8}")
    grand_total = 0.0
    for city in sorted(stats):
        s = stats[city]
        grand_total += s.total
        print(f"{city:<10}{s.count:>8}{s.total:>14.2f}{s.total / s.count:>10.2f}"
              f"{s.best:>10.2f}{s.best_id:>8}")
    print(f"{'all':<10}{len(lines):>8}{grand_total:>14.2f}")


main()
