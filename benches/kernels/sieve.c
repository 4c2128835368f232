/* sieve: the sieve of Eratosthenes below N; prints the number and the sum of the primes. */
int printf(const char *, ...);

#define N 200000
static char composite[N];

int main(void)
{
	long count = 0, sum = 0;
	for (long i = 2; i < N; i++) {
		if (!composite[i]) {
			count++;
			sum += i;
			for (long j = i * i; j < N; j += i)
				composite[j] = 1;
		}
	}
	printf("checksum: %ld %ld\n", count, sum);
	return 0;
}
