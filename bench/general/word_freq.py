# Word frequency: generate made-up text with a seeded LCG, split it into
# words, count them in a dict and print the top 10 and the number of distinct
# words. Same output as word_freq.wal.
WORDS = 1000000
VOCAB = 4000
WORDS_PER_LINE = 12
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu",
             "an", "el", "or", "is", "um", "qua", "ber", "din", "fel", "gor"]


class Rng:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state >> 8


def make_vocabulary(rng):
    vocabulary = []
    for _ in range(VOCAB):
        word = ""
        for _ in range(2 + rng.next() % 3):
            word += SYLLABLES[rng.next() % len(SYLLABLES)]
        vocabulary.append(word)
    return vocabulary


def make_text(rng, vocabulary):
    lines = []
    for _ in range(WORDS // WORDS_PER_LINE):
        words = []
        for _ in range(WORDS_PER_LINE):
            # The smaller of two draws: frequent words near the start of the vocabulary.
            words.append(vocabulary[min(rng.next() % VOCAB, rng.next() % VOCAB)])
        lines.append(" ".join(words))
    return lines


def main():
    rng = Rng(42)
    lines = make_text(rng, make_vocabulary(rng))
    counts = {}
    for line in lines:
        for word in line.split(" "):
            counts[word] = counts.get(word, 0) + 1
    entries = sorted(counts.items(), key=lambda e: (-e[1], e[0]))
    for word, n in entries[:10]:
        print(f"{word:<14}{n:>7}")
    print(f"{len(entries)} distinct words in {len(lines)} lines")


main()
