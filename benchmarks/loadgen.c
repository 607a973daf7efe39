/* loadgen: the two measurements wrk cannot make, for benchmarks/run.py.
 *
 *   loadgen http HOST PORT PATH CONNS RATE SECONDS
 *       Open loop at a fixed request rate: request i is due at start + i/RATE and is sent on the first
 *       idle connection; its latency runs from when it was due (so time spent queued behind a slow
 *       server counts: no coordinated omission). Prints JSON: sent, completed, p50/p90/p99/p99.9/max
 *       in us, and loadgen_stall_us: the longest time the load generator's own loop did not run.
 *   loadgen ws HOST PORT PATH CONNS SIZE SECONDS
 *       Closed loop WebSocket echo: each connection sends a masked binary message of SIZE bytes and
 *       waits for it to come back. Prints JSON: messages, messages_per_second.
 *   loadgen broadcast HOST PORT PATH CONNS SIZE SECONDS
 *       A WebSocket room: CONNS connections; the first sends a message, which the server sends to every
 *       connection in the room; once all CONNS have it, the next is sent. Prints JSON: messages (sent),
 *       deliveries (messages x CONNS), deliveries_per_second.
 *
 * Responses must carry Content-Length (the benchmark apps' do). Loopback only; bounded in time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 1048576

typedef struct {
    int fd;
    char *in;
    size_t in_len;
    int busy;         /* a request or message is outstanding */
    double due;       /* http: when the outstanding request was due */
    int ws_open;      /* ws: handshake done */
} conn_t;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(2); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EAGAIN || errno == EINTR) continue; perror("write"); exit(2); }
        p += w; n -= (size_t)w;
    }
}

/* Length of one complete HTTP response at the start of buf, or 0 if it is not all there yet. */
static size_t http_response_len(const char *buf, size_t n) {
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4;
    long length = 0;
    for (const char *p = buf; p < end; p++) {
        if ((p == buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            length = strtol(p + 15, NULL, 10);
            break;
        }
    }
    return n >= head + (size_t)length ? head + (size_t)length : 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_http(const char *host, int port, const char *path, int nconns, double rate, double seconds) {
    char request[512];
    int rlen = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    conn_t *c = calloc(nconns, sizeof *c);
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        c[i].fd = dial(host, port);
        c[i].in = malloc(BUF);
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    size_t total = (size_t)(rate * seconds);
    double *lat = malloc(sizeof(double) * (total + 1));
    size_t sent = 0, done = 0;
    double start = now(), deadline = start + seconds + 5.0; /* 5 s to drain what is in flight */
    /* The longest time this loop did not run (it never sleeps more than 10 ms): far above that, the
     * load generator itself was not scheduled, and latencies of that moment are the machine's, not the
     * server's. */
    double last = start, stall = 0;
    struct epoll_event evs[256];
    while (done < total && now() < deadline) {
        double t = now();
        if (t - last > stall) stall = t - last;
        last = t;
        /* Send every request that is due, on idle connections. */
        for (int i = 0; i < nconns && sent < total && start + sent / rate <= t; i++) {
            if (c[i].busy) continue;
            c[i].busy = 1;
            c[i].due = start + sent / rate;
            sent++;
            send_all(c[i].fd, request, (size_t)rlen);
        }
        double next_due = sent < total ? start + sent / rate : t + 0.01;
        int timeout_ms = (int)((next_due - now()) * 1000);
        if (timeout_ms < 0) timeout_ms = 0;
        int n = epoll_wait(ep, evs, 256, timeout_ms > 10 ? 10 : timeout_ms);
        for (int k = 0; k < n; k++) {
            conn_t *x = &c[evs[k].data.u32];
            ssize_t r = read(x->fd, x->in + x->in_len, BUF - x->in_len);
            if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; fprintf(stderr, "connection closed\n"); exit(2); }
            x->in_len += (size_t)r;
            size_t len;
            while ((len = http_response_len(x->in, x->in_len)) > 0) {
                lat[done++] = now() - x->due;
                memmove(x->in, x->in + len, x->in_len - len);
                x->in_len -= len;
                x->busy = 0;
            }
        }
    }
    qsort(lat, done, sizeof(double), cmp_double);
#define PCT(p) (done ? lat[(size_t)((done - 1) * (p))] * 1e6 : 0)
    printf("{\"sent\": %zu, \"completed\": %zu, \"rate\": %.0f, \"p50_us\": %.1f, \"p90_us\": %.1f, "
           "\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f, \"loadgen_stall_us\": %.1f}\n", sent, done,
           rate, PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), PCT(1.0), stall * 1e6);
    return 0;
}

static int run_ws(const char *host, int port, const char *path, int nconns, size_t size, double seconds,
                  int broadcast) {
    char hs[512];
    int hlen = snprintf(hs, sizeof hs, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n", path, host, port);
    /* One masked binary frame, built once: mask key 0 leaves the payload as is. */
    size_t header = size < 126 ? 6 : (size < 65536 ? 8 : 14);
    unsigned char *frame = calloc(1, header + size);
    frame[0] = 0x82;
    if (size < 126) { frame[1] = 0x80 | (unsigned char)size; }
    else if (size < 65536) { frame[1] = 0x80 | 126; frame[2] = size >> 8; frame[3] = size & 0xff; }
    else { frame[1] = 0x80 | 127; for (int k = 0; k < 8; k++) frame[2 + k] = (size >> (56 - 8 * k)) & 0xff; }
    memset(frame + header, 'x', size);
    size_t echo_len = (size < 126 ? 2 : (size < 65536 ? 4 : 10)) + size;
    conn_t *c = calloc(nconns, sizeof *c);
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        c[i].fd = dial(host, port);
        c[i].in = malloc(BUF);
        send_all(c[i].fd, hs, (size_t)hlen);
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    size_t messages = 0, deliveries = 0, have = 0; /* broadcast: connections that have the current message */
    double start = 0, end_at = 0;
    int open_count = 0;
    struct epoll_event evs[256];
    double give_up = now() + 10;
    while (open_count < nconns || now() < end_at) {
        if (open_count < nconns && now() > give_up) { fprintf(stderr, "handshakes did not complete\n"); exit(2); }
        int n = epoll_wait(ep, evs, 256, 50);
        for (int k = 0; k < n; k++) {
            conn_t *x = &c[evs[k].data.u32];
            ssize_t r = read(x->fd, x->in + x->in_len, BUF - x->in_len);
            if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; fprintf(stderr, "connection closed\n"); exit(2); }
            x->in_len += (size_t)r;
            if (!x->ws_open) {
                char *e = memmem(x->in, x->in_len, "\r\n\r\n", 4);
                if (!e) continue;
                if (strncmp(x->in, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "handshake refused\n"); exit(2); }
                size_t h = (size_t)(e - x->in) + 4;
                memmove(x->in, x->in + h, x->in_len - h);
                x->in_len -= h;
                x->ws_open = 1;
                if (++open_count == nconns) {
                    start = now();
                    end_at = start + seconds;
                    if (broadcast) { messages = 1; send_all(c[0].fd, (char *)frame, header + size); }
                    else for (int i = 0; i < nconns; i++) { c[i].busy = 1; send_all(c[i].fd, (char *)frame, header + size); }
                }
                continue;
            }
            while (x->in_len >= echo_len) {
                memmove(x->in, x->in + echo_len, x->in_len - echo_len);
                x->in_len -= echo_len;
                if (broadcast) {
                    deliveries++;
                    if (++have == (size_t)nconns) {  /* everyone has it: the next message */
                        have = 0;
                        if (now() < end_at) { messages++; send_all(c[0].fd, (char *)frame, header + size); }
                        else end_at = 0;  /* done: the loop ends */
                    }
                } else if (now() < end_at) {
                    messages++;
                    send_all(x->fd, (char *)frame, header + size);
                }
            }
        }
    }
    double elapsed = now() - start;
    if (broadcast)
        printf("{\"messages\": %zu, \"deliveries\": %zu, \"seconds\": %.2f, \"deliveries_per_second\": %.0f}\n",
               messages, deliveries, elapsed, deliveries / (elapsed > 0 ? elapsed : 1));
    else
        printf("{\"messages\": %zu, \"seconds\": %.2f, \"messages_per_second\": %.0f}\n", messages, elapsed,
               messages / (elapsed > 0 ? elapsed : 1));
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 8 && strcmp(argv[1], "http") == 0)
        return run_http(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), atof(argv[6]), atof(argv[7]));
    if (argc == 8 && strcmp(argv[1], "ws") == 0)
        return run_ws(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), (size_t)atol(argv[6]), atof(argv[7]), 0);
    if (argc == 8 && strcmp(argv[1], "broadcast") == 0)
        return run_ws(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), (size_t)atol(argv[6]), atof(argv[7]), 1);
    fprintf(stderr, "usage: loadgen http HOST PORT PATH CONNS RATE SECONDS\n"
                    "       loadgen ws HOST PORT PATH CONNS SIZE SECONDS\n"
                    "       loadgen broadcast HOST PORT PATH CONNS SIZE SECONDS\n");
    return 2;
}
