# Create 1,000,000 closures each capturing a loop variable, call each once,
# sum. Python's for loop shares one variable across iterations, so the
# idiomatic way to capture each iteration's value is a factory function
# (a real closure cell, not a default-argument trick).
# Expected output: 999999000000


def make(i):
    return lambda: i * 2


def main():
    fs = []
    for i in range(1000000):
        fs.append(make(i))
    total = 0
    for f in fs:
        total = total + f()
    print(total)


main()
