# String methods over a generated text of 20,000 lines: split, upper/lower, replace,
# find, contains, starts_with, slicing, and a walk over every character. Measures the
# string builtins and one-character strings. One of the extra shapes (bench/README.md).
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu",
             "an", "el", "or", "is", "um", "qua", "ber", "din", "fel", "gor"]

class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8

def main():
    rng = Rng(3)
    vocab = []
    for v in range(500):
        w = ""
        for s in range(2 + rng.next() % 3):
            w += SYLLABLES[rng.next() % len(SYLLABLES)]
        vocab.append(w)
    lines = []
    for l in range(20000):
        words = [vocab[rng.next() % len(vocab)] for k in range(10)]
        lines.append(" ".join(words))
    text = "\n".join(lines)
    print(len(text))

    nwords = found = findsum = contains = starts = replaced = sliced = 0
    longest = ""
    for line in text.split("\n"):
        words = line.split(" ")
        nwords += len(words)
        up = line.upper()
        if "KALO" in up:
            found += 1
        low = up.lower()
        findsum += low.find("ta")
        if "zu" in line:
            contains += 1
        if line.startswith("ka"):
            starts += 1
        replaced += len(line.replace("ka", "KAA"))
        part = line[3:13]
        sliced += len(part)
        if part > longest:
            longest = part
        for w in words:
            if len(w) > 9 and w.endswith("or"):
                starts += 1
    vowels = spaces = 0
    for c in text:
        if c == "a" or c == "e" or c == "i" or c == "o" or c == "u":
            vowels += 1
        elif c == " ":
            spaces += 1
    print(f"{nwords} {found} {findsum} {contains} {starts} {replaced} {sliced}")
    print(f"{vowels} {spaces} [{longest}]")

main()
