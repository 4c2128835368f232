/* matmul: N x N long matrix multiply, C = A * B; prints a hash of C. */
int printf(const char *, ...);

#define N 64
static long a[N * N], b[N * N], c[N * N];

int main(void)
{
	for (long i = 0; i < N; i++)
		for (long j = 0; j < N; j++) {
			a[i * N + j] = (i * 3 + j * 7) % 17 - 8;
			b[i * N + j] = (i * 5 + j * 2) % 13 - 6;
		}
	for (long i = 0; i < N; i++)
		for (long j = 0; j < N; j++) {
			long s = 0;
			for (long k = 0; k < N; k++)
				s += a[i * N + k] * b[k * N + j];
			c[i * N + j] = s;
		}
	unsigned long h = 0;
	for (long i = 0; i < N * N; i++)
		h = h * 31 + (unsigned long)c[i];
	printf("checksum: %lu\n", h);
	return 0;
}
