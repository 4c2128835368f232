/* quicksort: recursive quicksort (Lomuto partition, middle pivot) of N pseudo-random ints;
 * prints the number of out-of-order pairs (0) and a hash of the sorted array. */
int printf(const char *, ...);

#define N 30000
static int arr[N];

static void swap(int *a, long i, long j)
{
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
}

static void quicksort(int *a, long lo, long hi)
{
	if (lo >= hi)
		return;
	long mid = (lo + hi) / 2;
	int pivot = a[mid];
	swap(a, mid, hi);
	long i = lo;
	for (long j = lo; j < hi; j++) {
		if (a[j] < pivot) {
			swap(a, i, j);
			i++;
		}
	}
	swap(a, i, hi);
	quicksort(a, lo, i - 1);
	quicksort(a, i + 1, hi);
}

int main(void)
{
	unsigned x = 12345;
	for (long i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		arr[i] = (int)(x >> 8) % 100000;
	}
	quicksort(arr, 0, N - 1);
	long bad = 0;
	unsigned long h = 0;
	for (long i = 0; i < N; i++) {
		if (i > 0 && arr[i - 1] > arr[i])
			bad++;
		h = h * 31 + (unsigned long)arr[i];
	}
	printf("checksum: %ld %lu\n", bad, h);
	return 0;
}
