/* strsearch: naive substring search, counting the occurrences of three patterns in a
 * pseudo-random text over {a, b, c}; prints the counts. */
int printf(const char *, ...);

#define N 60000
static char text[N + 1];

static long length(const char *s)
{
	long n = 0;
	while (s[n] != 0)
		n++;
	return n;
}

static long search(const char *t, long n, const char *p, long m)
{
	long count = 0;
	for (long i = 0; i + m <= n; i++) {
		long j = 0;
		while (j < m && t[i + j] == p[j])
			j++;
		if (j == m)
			count++;
	}
	return count;
}

int main(void)
{
	unsigned x = 7;
	for (long i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		text[i] = (char)('a' + (x >> 16) % 3);
	}
	text[N] = 0;
	long n = length(text);
	long c1 = search(text, n, "abcab", length("abcab"));
	long c2 = search(text, n, "aab", length("aab"));
	long c3 = search(text, n, "cbacbaccb", length("cbacbaccb"));
	printf("checksum: %ld %ld %ld %ld\n", n, c1, c2, c3);
	return 0;
}
