# 50,000,000-iteration while loop summing i. Expected output: 1249999975000000


def main():
    i = 0
    total = 0
    while i < 50000000:
        total = total + i
        i = i + 1
    print(total)


main()
