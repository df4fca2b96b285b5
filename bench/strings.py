# Append str(i) one million times with +=, print the length.
# (CPython resizes the string in place when it holds the only reference.)


def main():
    s = ""
    for i in range(1000000):
        s += str(i)
    print(len(s))


main()
