/* nbody: STEPS steps of a 5-body gravity simulation (double precision), the square root
 * by a fixed number of Newton iterations (no libm); prints the energy before and after.
 * Compile with -ffp-contract=off so that gcc does not fuse multiply-adds (the IL has
 * separate mul and add, and the checksums must agree bit for bit). */
int printf(const char *, ...);

#define NB 5
#define STEPS 1000

struct body {
	double x, y, z, vx, vy, vz, mass;
};

static struct body bodies[NB];

static double nb_sqrt(double x)
{
	double g = x > 1.0 ? x : 1.0;
	for (int k = 0; k < 30; k++)
		g = 0.5 * (g + x / g);
	return g;
}

static void advance(struct body *bs, double dt)
{
	for (long i = 0; i < NB; i++) {
		struct body *bi = &bs[i];
		for (long j = i + 1; j < NB; j++) {
			struct body *bj = &bs[j];
			double dx = bi->x - bj->x;
			double dy = bi->y - bj->y;
			double dz = bi->z - bj->z;
			double d2 = dx * dx + dy * dy + dz * dz;
			double dist = nb_sqrt(d2);
			double mag = dt / (d2 * dist);
			bi->vx = bi->vx - dx * bj->mass * mag;
			bi->vy = bi->vy - dy * bj->mass * mag;
			bi->vz = bi->vz - dz * bj->mass * mag;
			bj->vx = bj->vx + dx * bi->mass * mag;
			bj->vy = bj->vy + dy * bi->mass * mag;
			bj->vz = bj->vz + dz * bi->mass * mag;
		}
	}
	for (long i = 0; i < NB; i++) {
		struct body *b = &bs[i];
		b->x = b->x + dt * b->vx;
		b->y = b->y + dt * b->vy;
		b->z = b->z + dt * b->vz;
	}
}

static double energy(struct body *bs)
{
	double e = 0.0;
	for (long i = 0; i < NB; i++) {
		struct body *bi = &bs[i];
		e = e + 0.5 * bi->mass * (bi->vx * bi->vx + bi->vy * bi->vy + bi->vz * bi->vz);
		for (long j = i + 1; j < NB; j++) {
			struct body *bj = &bs[j];
			double dx = bi->x - bj->x;
			double dy = bi->y - bj->y;
			double dz = bi->z - bj->z;
			e = e - bi->mass * bj->mass / nb_sqrt(dx * dx + dy * dy + dz * dz);
		}
	}
	return e;
}

int main(void)
{
	for (long i = 0; i < NB; i++) {
		struct body *b = &bodies[i];
		b->x = (double)i * 1.5;
		b->y = (double)(i % 3) * 0.75 - 0.5;
		b->z = (double)(i % 2) * 0.25;
		b->vx = (double)(i % 2) * 0.125 - 0.0625;
		b->vy = (double)i * 0.0625;
		b->vz = (double)(2 - i) * 0.03125;
		b->mass = 1.0 + (double)i * 0.5;
	}
	double e0 = energy(bodies);
	for (long s = 0; s < STEPS; s++)
		advance(bodies, 0.0009765625);
	double e1 = energy(bodies);
	printf("checksum: %.9f %.9f\n", e0, e1);
	return 0;
}
