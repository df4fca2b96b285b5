# Build 1,000,000 record dicts, then filter age > 18, map to score * 2, sum.


def main():
    records = []
    for i in range(1000000):
        records.append({"id": i, "age": i % 90, "score": i % 1000})
    total = sum(r["score"] * 2 for r in records if r["age"] > 18)
    print(total)


main()
