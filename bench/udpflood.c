// SPDX-License-Identifier: GPL-2.0
/*
 * udpflood: small-packet UDP load for `make bench`, compiled on the host.
 *
 *   udpflood send DST PORT FLOWS LEN SECONDS
 *       FLOWS connected UDP sockets (each its own ephemeral source port,
 *       so FLOWS distinct 5-tuples) send LEN-byte datagrams to DST:PORT
 *       round robin, as fast as they can, for SECONDS. Prints
 *       "sent=N errors=N" (ENOBUFS/EAGAIN and the like are counted, not
 *       fatal: the receiver's count is the figure).
 *
 *   udpflood recv FAMILY(4|6) PORT OMIT SECONDS
 *       Binds PORT, prints "ready" once it can receive, then reads with
 *       recvmmsg. The measurement window starts OMIT seconds after the
 *       first datagram and lasts SECONDS; over it, the namespace's
 *       Udp InDatagrams (/proc/net/snmp) and the datagrams this socket
 *       read are counted. Prints one JSON object:
 *       {"pps": InDatagrams/s, "pps_socket": ..., "window_s": ...,
 *        "rcvbuf_errors": ...}. Exits 1 if no datagram comes within 30 s
 *       or the traffic stops before the window ends.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Udp: InDatagrams and RcvbufErrors from this namespace's /proc/net/snmp. */
static int udp_counters(unsigned long long *in, unsigned long long *rcvbuf)
{
	char names[1024], vals[1024], *n, *v, *sn, *sv;
	int found = 0;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f)) {
		if (strncmp(names, "Udp: ", 5) || !fgets(vals, sizeof(vals), f))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, "InDatagrams")) {
				*in = strtoull(v, NULL, 10);
				found |= 1;
			} else if (!strcmp(n, "RcvbufErrors")) {
				*rcvbuf = strtoull(v, NULL, 10);
				found |= 2;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
	return found == 3 ? 0 : -1;
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

static int do_send(const char *dst, int port, int flows, int len, double secs)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	unsigned long long sent = 0, errors = 0;
	char buf[65536];
	int fam = resolve(dst, port, &ss, &slen), i, rounds = 0, *fds;
	double end;

	if (fam < 0 || flows < 1 || len < 1 || len > (int)sizeof(buf)) {
		fprintf(stderr, "udpflood send: bad arguments\n");
		return 2;
	}
	fds = calloc(flows, sizeof(*fds));
	if (!fds)
		return 2;
	memset(buf, 0x5a, len);
	for (i = 0; i < flows; i++) {
		fds[i] = socket(fam, SOCK_DGRAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&ss, slen) < 0) {
			perror("udpflood send: socket/connect");
			return 1;
		}
	}
	end = now() + secs;
	for (;;) {
		for (i = 0; i < flows; i++) {
			if (send(fds[i], buf, len, MSG_DONTWAIT) == len)
				sent++;
			else
				errors++;
		}
		/* Look at the clock about every 256 datagrams. */
		if (++rounds * flows >= 256) {
			rounds = 0;
			if (now() >= end)
				break;
		}
	}
	printf("sent=%llu errors=%llu\n", sent, errors);
	return 0;
}

#define BATCH 64

static int do_recv(int fam, int port, double omit, double secs)
{
	struct sockaddr_storage ss;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	static char bufs[BATCH][2048];
	struct timeval tv = { .tv_sec = 1 };
	unsigned long long got = 0, got0 = 0, in0 = 0, in1 = 0, rb0 = 0, rb1 = 0;
	double first = 0, t0 = 0, t1 = 0, start = now();
	int fd, i, rcvbuf = 4 << 20, state = 0; /* 0 wait, 1 omit, 2 window */
	socklen_t slen;

	memset(&ss, 0, sizeof(ss));
	if (fam == 6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons(port);
		slen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = htons(port);
		slen = sizeof(*a4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, slen) < 0) {
		perror("udpflood recv: socket/bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
		double t = now();

		if (n > 0)
			got += n;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			perror("udpflood recv: recvmmsg");
			return 1;
		}
		if (state == 0) {
			if (n > 0) {
				first = t;
				state = 1;
			} else if (t - start > 30) {
				fprintf(stderr, "udpflood recv: no datagram in 30 s\n");
				return 1;
			}
		} else if (n <= 0) {
			fprintf(stderr, "udpflood recv: traffic stopped %.1f s after it began\n",
				t - first);
			return 1;
		}
		if (state == 1 && t - first >= omit) {
			if (udp_counters(&in0, &rb0) < 0) {
				fprintf(stderr, "udpflood recv: no Udp line in /proc/net/snmp\n");
				return 1;
			}
			got0 = got;
			t0 = now();
			state = 2;
		} else if (state == 2 && t - t0 >= secs) {
			t1 = now();
			if (udp_counters(&in1, &rb1) < 0)
				return 1;
			break;
		}
	}
	printf("{\"pps\": %.1f, \"pps_socket\": %.1f, \"window_s\": %.3f, \"rcvbuf_errors\": %llu}\n",
	       (in1 - in0) / (t1 - t0), (got - got0) / (t1 - t0), t1 - t0, rb1 - rb0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atof(argv[6]));
	if (argc == 6 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: udpflood send DST PORT FLOWS LEN SECONDS\n"
			"       udpflood recv 4|6 PORT OMIT SECONDS\n");
	return 2;
}
