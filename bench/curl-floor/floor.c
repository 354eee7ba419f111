/*
 * curl-floor: the cheapest proxy that still makes its upstream calls through libcurl.
 *
 * It exists to measure one number: how fast a gateway can be on this machine when every
 * upstream call goes through libcurl's multi interface, before it does any gateway work.
 * It does what justgate's server and upstream client do (an epoll loop per thread with a
 * SO_REUSEPORT listener, keep-alive clients, one curl multi handle per loop driven by
 * curl_multi_socket_action from the same epoll set, the token header injected) and nothing
 * else: no authentication, no validation, no logging, no limits on hostile input.
 * Benchmark use only, on loopback; it trusts its clients completely.
 *
 * Usage: floor PORT UPSTREAM_BASE_URL TOKEN [THREADS]
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#define BUF 65536
#define TAG_LISTEN 1ULL
#define TAG_CLIENT 2ULL
#define TAG_CURL 3ULL
#define TAG(t, fd) (((t) << 56) | (uint32_t)(fd))

static int port;
static const char *base_url;
static char token_header[512];

struct loop;

struct client {
    int fd;
    struct loop *loop;
    char in[BUF];
    size_t in_len;
    CURL *easy;            /* kept for the connection's next call, as justgate recycles handles */
    int busy;              /* a call is in flight */
    struct curl_slist *headers;
    char *response;
    size_t response_len, response_cap;
    CURLU *url;            /* the base URL parsed once per handle; each call sets path and query (CURLOPT_CURLU) */
};

struct loop {
    int epfd;
    int listen_fd;
    CURLM *multi;
    long timeout_ms;       /* -1: none */
    struct timespec timer_set_at;
    struct client **by_fd;
};

static void die(const char *what) { perror(what); exit(1); }

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    struct client *c = user;
    size_t n = size * count;
    if (c->response_len + n > c->response_cap) {
        c->response_cap = (c->response_len + n) * 2;
        c->response = realloc(c->response, c->response_cap);
    }
    memcpy(c->response + c->response_len, data, n);
    c->response_len += n;
    return n;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *user, void *socketp) {
    struct loop *l = user;
    struct epoll_event ev = {0};
    ev.data.u64 = TAG(TAG_CURL, s);
    (void)easy; (void)socketp;
    if (what == CURL_POLL_REMOVE) { epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, &ev); return 0; }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev) != 0) epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
    struct loop *l = user;
    (void)multi;
    l->timeout_ms = timeout_ms;
    clock_gettime(CLOCK_MONOTONIC, &l->timer_set_at);
    return 0;
}

static void close_client(struct client *c) {
    if (c->easy) {
        if (c->busy) curl_multi_remove_handle(c->loop->multi, c->easy);
        curl_easy_cleanup(c->easy);
        curl_url_cleanup(c->url);
    }
    curl_slist_free_all(c->headers);
    c->loop->by_fd[c->fd] = NULL;
    close(c->fd);
    free(c->response);
    free(c);
}

static void respond(struct client *c, long status) {
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %ld OK\r\nContent-Length: %zu\r\n\r\n", status, c->response_len);
    char *out = malloc(n + c->response_len);
    memcpy(out, head, n);
    memcpy(out + n, c->response, c->response_len);
    send(c->fd, out, n + c->response_len, MSG_NOSIGNAL);
    free(out);
}

/* Starts the upstream call if a whole request is buffered. */
static void try_request(struct client *c) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end || c->busy) return;
    size_t head_len = end - c->in + 4;
    size_t body_len = 0;
    char *cl = strcasestr(c->in, "\r\ncontent-length:");
    if (cl && cl < end) body_len = strtoul(cl + 17, NULL, 10);
    if (c->in_len < head_len + body_len) return;
    char method[16] = {0}, target[1500] = {0};
    sscanf(c->in, "%15s %1499s", method, target);
    char *type = strcasestr(c->in, "\r\ncontent-type:");
    char type_header[512] = "Content-Type:";
    if (type && type < end) {
        char *eol = strstr(type + 2, "\r\n");
        snprintf(type_header, sizeof type_header, "%.*s", (int)(eol - type - 2), type + 2);
    }
    if (!c->easy) {
        c->easy = curl_easy_init();
        c->url = curl_url();
        curl_url_set(c->url, CURLUPART_URL, base_url, 0);
    }
    /* As justgate does: libcurl keeps the parsed base, so it does not parse the whole URL per call. */
    char *query = strchr(target, '?');
    if (query) *query++ = 0;
    curl_url_set(c->url, CURLUPART_PATH, target, 0);
    curl_url_set(c->url, CURLUPART_QUERY, query && *query ? query : NULL, 0);
    curl_easy_setopt(c->easy, CURLOPT_CURLU, c->url);
    curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    c->headers = curl_slist_append(NULL, "Expect:");
    c->headers = curl_slist_append(c->headers, token_header);
    /* As justgate does: libcurl writes this Content-Type itself, cheaper than a list entry. */
    if (strcasecmp(type_header, "Content-Type: application/x-www-form-urlencoded") != 0)
        c->headers = curl_slist_append(c->headers, type_header);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)body_len);
        curl_easy_setopt(c->easy, CURLOPT_COPYPOSTFIELDS, c->in + head_len);
    }
    memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
    c->in_len -= head_len + body_len;
    c->response_len = 0;
    c->busy = 1;
    curl_multi_add_handle(c->loop->multi, c->easy);
}

static void finish_calls(struct loop *l) {
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(l->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct client *c;
        long status = 502;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (m->data.result == CURLE_OK) curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(l->multi, c->easy);
        curl_slist_free_all(c->headers);
        c->headers = NULL;
        c->busy = 0;
        respond(c, status);
        try_request(c);
    }
}

static void on_client(struct client *c) {
    ssize_t n = recv(c->fd, c->in + c->in_len, BUF - c->in_len, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        close_client(c);
        return;
    }
    c->in_len += n;
    try_request(c);
}

static long elapsed_ms(struct timespec since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since.tv_sec) * 1000 + (now.tv_nsec - since.tv_nsec) / 1000000;
}

static void *run_loop(void *unused) {
    (void)unused;
    struct loop l = {.timeout_ms = -1};
    l.epfd = epoll_create1(0);
    l.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(l.listen_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(l.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(l.listen_fd, (struct sockaddr *)&addr, sizeof addr) || listen(l.listen_fd, 4096)) die("listen");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_LISTEN, l.listen_fd)};
    epoll_ctl(l.epfd, EPOLL_CTL_ADD, l.listen_fd, &ev);
    l.multi = curl_multi_init();
    curl_multi_setopt(l.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(l.multi, CURLMOPT_SOCKETDATA, &l);
    curl_multi_setopt(l.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(l.multi, CURLMOPT_TIMERDATA, &l);
    curl_multi_setopt(l.multi, CURLMOPT_MAXCONNECTS, 512L);
    struct client **by_fd = l.by_fd = calloc(65536, sizeof *by_fd);
    struct epoll_event events[256];
    for (;;) {
        int wait = -1, running;
        if (l.timeout_ms >= 0) {
            long left = l.timeout_ms - elapsed_ms(l.timer_set_at);
            wait = left < 0 ? 0 : (int)left;
        }
        int n = epoll_wait(l.epfd, events, 256, wait);
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64 >> 56;
            int fd = (int)(uint32_t)events[i].data.u64;
            if (tag == TAG_LISTEN) {
                int cfd;
                while ((cfd = accept4(l.listen_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0 && cfd < 65536) {
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct client *c = calloc(1, sizeof *c);
                    c->fd = cfd;
                    c->loop = &l;
                    by_fd[cfd] = c;
                    struct epoll_event cev = {.events = EPOLLIN, .data.u64 = TAG(TAG_CLIENT, cfd)};
                    epoll_ctl(l.epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
            } else if (tag == TAG_CLIENT) {
                struct client *c = by_fd[fd];
                if (!c) continue;
                on_client(c);
            } else if (tag == TAG_CURL) {
                int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                            (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                            (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(l.multi, fd, flags, &running);
                finish_calls(&l);
            }
        }
        if (l.timeout_ms >= 0 && elapsed_ms(l.timer_set_at) >= l.timeout_ms) {
            l.timeout_ms = -1;
            curl_multi_socket_action(l.multi, CURL_SOCKET_TIMEOUT, 0, &running);
            finish_calls(&l);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: floor PORT UPSTREAM_BASE_URL TOKEN [THREADS]\n"); return 2; }
    port = atoi(argv[1]);
    base_url = argv[2];
    snprintf(token_header, sizeof token_header, "X-AUTH-TOKEN: %s", argv[3]);
    int threads = argc > 4 ? atoi(argv[4]) : 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t ids[64];
    for (int i = 0; i < threads && i < 64; i++) pthread_create(&ids[i], NULL, run_loop, NULL);
    for (int i = 0; i < threads && i < 64; i++) pthread_join(ids[i], NULL);
    return 0;
}
