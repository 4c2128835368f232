/* crc32: table-driven CRC-32 (IEEE 802.3, reflected) of 4 passes over a 64 KiB
 * pseudo-random buffer; prints the CRC. */
int printf(const char *, ...);

#define LEN 65536
static unsigned table[256];
static unsigned char buf[LEN];

int main(void)
{
	for (unsigned n = 0; n < 256; n++) {
		unsigned c = n;
		for (int k = 0; k < 8; k++) {
			if (c & 1)
				c = 0xEDB88320u ^ (c >> 1);
			else
				c = c >> 1;
		}
		table[n] = c;
	}
	unsigned x = 1;
	for (long i = 0; i < LEN; i++) {
		x = x * 1664525u + 1013904223u;
		buf[i] = (unsigned char)(x >> 24);
	}
	unsigned crc = 0xFFFFFFFFu;
	for (long r = 0; r < 4; r++)
		for (long i = 0; i < LEN; i++)
			crc = table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
	crc = crc ^ 0xFFFFFFFFu;
	printf("checksum: %08x\n", crc);
	return 0;
}
