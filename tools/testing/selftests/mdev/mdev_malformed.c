// SPDX-License-Identifier: GPL-2.0
/*
 * mdev_malformed - feed generated malformed inputs to the sysfs files that
 * parse user input, and print what each did, one line per input:
 *
 *   table: create|remove INDEX LABEL RESULT EFFECT [improvement]
 *
 * RESULT is "OK" or the errno's name; EFFECT is "created" or "none" for
 * create, "removed" or "kept" for remove.  The lines of two runs, one per
 * core, are compared by the test bed: they must be equal but for the inputs
 * marked "improvement", where this project's core documents a difference
 * from the C core (Documentation/mdev-core.rst).
 *
 * Usage: mdev_malformed create TYPE_DIR
 *        mdev_malformed remove TYPE_DIR
 *
 * create writes every input to TYPE_DIR/create, then removes whatever
 * device appeared.  remove keeps one device of TYPE_DIR and writes every
 * input to its remove file, creating it again whenever an input removed it.
 * The inputs are generated below, each from its own UUID, so that no input
 * depends on what an earlier one did.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UUID_LEN 36
#define INPUT_MAX 4200
#define RANDOM_SEED 20261126u
#define BUS "/sys/bus/mdev/devices"

static const char *type_dir;
static int nr_inputs, nr_rejected_with_effect;

struct input {
	char label[64];
	unsigned char buf[INPUT_MAX];
	size_t len;
	int improvement;
};

/* The canonical UUID of input INDEX: unique per input, lower case. */
static void uuid_of(int index, char out[UUID_LEN + 1])
{
	snprintf(out, UUID_LEN + 1, "%08x-1111-4222-8333-%012x", 0x6d646576u, index);
}

static void label(struct input *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->label, sizeof(in->label), fmt, ap);
	va_end(ap);
}

static void set(struct input *in, const void *data, size_t len)
{
	memcpy(in->buf, data, len);
	in->len = len;
}

static const char *write_file(const char *path, const void *buf, size_t len)
{
	static char result[32];
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return strerrorname_np(errno);
	n = write(fd, buf, len);
	snprintf(result, sizeof(result), "%s", n < 0 ? strerrorname_np(errno) : "OK");
	close(fd);
	return result;
}

/* Remove every device of the type; returns how many there were. */
static int remove_all(void)
{
	char path[512];
	struct dirent *e;
	int count = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/devices", type_dir);
	d = opendir(path);
	if (!d) {
		perror(path);
		exit(2);
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), BUS "/%s/remove", e->d_name);
		write_file(path, "1", 1);
		count++;
	}
	closedir(d);
	return count;
}

static void create_one(const struct input *in)
{
	char path[512];
	const char *result;
	int created;

	snprintf(path, sizeof(path), "%s/create", type_dir);
	result = write_file(path, in->buf, in->len);
	created = remove_all();
	if (strcmp(result, "OK") && created)
		nr_rejected_with_effect++;
	printf("table: create %d %s %s %s%s\n", nr_inputs++, in->label, result,
	       created ? "created" : "none", in->improvement ? " improvement" : "");
}

/* The create inputs: every kind of damage to a well-formed UUID. */
static void create_inputs(void)
{
	static const char nonhex[] = "gG-z ";
	struct input in = { 0 };
	char u[UUID_LEN + 1], v[UUID_LEN + 1];
	unsigned int seed = RANDOM_SEED;
	size_t i, j, k;

	uuid_of(nr_inputs, u);
	label(&in, "well-formed");
	set(&in, u, UUID_LEN);
	create_one(&in);
	uuid_of(nr_inputs, u);
	label(&in, "well-formed-newline");
	set(&in, u, UUID_LEN);
	in.buf[in.len++] = '\n';
	create_one(&in);

	/* Every truncation. */
	for (i = 0; i < UUID_LEN; i++) {
		uuid_of(nr_inputs, u);
		label(&in, "truncated-%zu", i);
		set(&in, u, i);
		create_one(&in);
	}
	/* Every position: a non-hex byte, then NUL, then a high byte. */
	for (k = 0; k < 3; k++) {
		static const char *const kind[] = { "non-hex", "nul", "high-byte" };

		for (i = 0; i < UUID_LEN; i++) {
			uuid_of(nr_inputs, u);
			label(&in, "%s-at-%zu", kind[k], i);
			set(&in, u, UUID_LEN);
			if (k == 0)
				in.buf[i] = u[i] == nonhex[i % 5] ? 'x' : nonhex[i % 5];
			else
				in.buf[i] = k == 1 ? '\0' : 0x80 | (i * 7);
			create_one(&in);
		}
	}
	/* A 37th byte: only a newline is well-formed.  The C core checks the
	 * first 36 bytes alone and accepts any 37th byte. */
	{
		static const unsigned char byte37[] = { ' ', '\t', '\r', '\0', 'x', '0', 0xff };

		for (i = 0; i < sizeof(byte37); i++) {
			uuid_of(nr_inputs, u);
			label(&in, "byte-37-0x%02x", byte37[i]);
			set(&in, u, UUID_LEN);
			in.buf[in.len++] = byte37[i];
			in.improvement = 1;
			create_one(&in);
			in.improvement = 0;
		}
	}
	/* Whitespace, line ends, braces, dashes, case, two UUIDs. */
	{
		static const char *const wrap[][3] = {
			{ "leading-space", " ", "" },	{ "leading-tab", "\t", "" },
			{ "leading-newline", "\n", "" }, { "trailing-spaces", "", "  " },
			{ "trailing-crlf", "", "\r\n" }, { "two-newlines", "", "\n\n" },
			{ "braces", "{", "}" },		{ "braces-newline", "{", "}\n" },
			{ "quotes", "\"", "\"" },	{ "urn-prefix", "urn:uuid:", "" },
		};

		for (i = 0; i < sizeof(wrap) / sizeof(wrap[0]); i++) {
			uuid_of(nr_inputs, u);
			label(&in, "%s", wrap[i][0]);
			in.len = (size_t)snprintf((char *)in.buf, sizeof(in.buf), "%s%s%s",
						  wrap[i][1], u, wrap[i][2]);
			create_one(&in);
		}
	}
	uuid_of(nr_inputs, u);
	label(&in, "no-dashes");
	for (i = j = 0; i < UUID_LEN; i++)
		if (u[i] != '-')
			in.buf[j++] = u[i];
	in.len = j;
	create_one(&in);
	for (i = 0; i + 1 < UUID_LEN; i++) {
		/* Move each dash one place to the right. */
		if (i != 8 && i != 13 && i != 18 && i != 23)
			continue;
		uuid_of(nr_inputs, u);
		label(&in, "dash-moved-from-%zu", i);
		set(&in, u, UUID_LEN);
		in.buf[i] = in.buf[i + 1];
		in.buf[i + 1] = '-';
		create_one(&in);
	}
	uuid_of(nr_inputs, u);
	label(&in, "upper-case");
	set(&in, u, UUID_LEN);
	for (i = 0; i < UUID_LEN; i++)
		if (in.buf[i] >= 'a' && in.buf[i] <= 'f')
			in.buf[i] -= 'a' - 'A';
	create_one(&in);
	{
		static const char *const sep[] = { "", " ", "\n", "," };

		for (i = 0; i < 4; i++) {
			uuid_of(nr_inputs, u);
			uuid_of(nr_inputs + 1000, v);
			label(&in, "two-uuids-sep-%zu", i);
			in.len = (size_t)snprintf((char *)in.buf, sizeof(in.buf), "%s%s%s", u,
						  sep[i], v);
			create_one(&in);
		}
	}
	/* Page-sized writes: a UUID, then newlines up to 4095 and 4096 bytes. */
	for (i = 4095; i <= 4096; i++) {
		uuid_of(nr_inputs, u);
		label(&in, "length-%zu", i);
		set(&in, u, UUID_LEN);
		memset(in.buf + UUID_LEN, '\n', i - UUID_LEN);
		in.len = i;
		create_one(&in);
	}
	/* Random bytes, of random lengths, from a fixed seed. */
	for (i = 0; i < 40; i++) {
		label(&in, "random-%zu", i);
		in.len = 1 + rand_r(&seed) % 48;
		for (j = 0; j < in.len; j++)
			in.buf[j] = rand_r(&seed) & 0xff;
		create_one(&in);
	}
}

/* The device the remove inputs are written to, created again when gone. */
static char remove_uuid[UUID_LEN + 1];

static void remove_one(const struct input *in)
{
	char create_path[512], remove_path[512];
	const char *result;
	int removed;

	snprintf(create_path, sizeof(create_path), "%s/create", type_dir);
	snprintf(remove_path, sizeof(remove_path), BUS "/%s/remove", remove_uuid);
	if (access(remove_path, F_OK)) {
		/*
		 * A removed device keeps its UUID until its release, which
		 * CONFIG_DEBUG_KOBJECT_RELEASE (the stress kernel) delays by
		 * up to four seconds, on either core: EEXIST until then.
		 */
		const char *made = "EEXIST";
		int tries;

		for (tries = 0; tries < 100 && !strcmp(made, "EEXIST"); tries++) {
			if (tries)
				usleep(100000);
			made = write_file(create_path, remove_uuid, UUID_LEN);
		}
		if (strcmp(made, "OK")) {
			fprintf(stderr, "cannot create %s: %s\n", remove_uuid, made);
			exit(2);
		}
	}
	result = write_file(remove_path, in->buf, in->len);
	removed = access(remove_path, F_OK) != 0;
	if (strcmp(result, "OK") && removed)
		nr_rejected_with_effect++;
	printf("table: remove %d %s %s %s\n", nr_inputs++, in->label, result,
	       removed ? "removed" : "kept");
}

/* The remove inputs: what kstrtoul() might accept or reject. */
static void remove_inputs(void)
{
	static const char *const prefix[] = { "", "+", "-", " ", "0", "0x", "0X", "\t" };
	static const char *const body[] = { "0", "1", "10", "7" };
	static const char *const suffix[] = { "", "\n", "\n\n", " " };
	static const char *const words[] = {
		"",	 "\n",	 "true", "y",  "Y",  "on", "yes", "1.0", "1e0",
		"0b1",	 "08",	 "0x",	 "x1", "1\t", "18446744073709551615",
		"18446744073709551616", "0x10000000000000000",
	};
	struct input in = { 0 };
	size_t p, b, s, w;

	uuid_of(99999, remove_uuid);
	for (p = 0; p < sizeof(prefix) / sizeof(prefix[0]); p++)
		for (b = 0; b < sizeof(body) / sizeof(body[0]); b++)
			for (s = 0; s < sizeof(suffix) / sizeof(suffix[0]); s++) {
				label(&in, "prefix-%zu-body-%s-suffix-%zu", p, body[b], s);
				in.len = (size_t)snprintf((char *)in.buf, sizeof(in.buf), "%s%s%s",
							  prefix[p], body[b], suffix[s]);
				remove_one(&in);
			}
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		label(&in, "word-%zu", w);
		set(&in, words[w], strlen(words[w]));
		remove_one(&in);
	}
	label(&in, "one-then-nul");
	set(&in, "1", 2);
	remove_one(&in);
	remove_all();
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "create") && strcmp(argv[1], "remove"))) {
		fprintf(stderr, "usage: mdev_malformed create|remove TYPE_DIR\n");
		return 2;
	}
	type_dir = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "create"))
		create_inputs();
	else
		remove_inputs();
	printf("inputs: %d, rejected with an effect: %d\n", nr_inputs, nr_rejected_with_effect);
	return nr_rejected_with_effect ? 1 : 0;
}
