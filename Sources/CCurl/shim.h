#ifndef JUSTGATE_CCURL_SHIM_H
#define JUSTGATE_CCURL_SHIM_H

/*
 * Typed wrappers around libcurl's variadic option setters.
 *
 * Swift cannot call C variadic functions, so every argument kind that justgate passes to
 * curl_easy_setopt / curl_multi_setopt / curl_easy_getinfo gets one static inline wrapper here.
 * Keep this file free of logic: it exists only to give each call a fixed signature.
 */

#include <curl/curl.h>

/* curl_easy_setopt */
static inline CURLcode jg_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode jg_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode jg_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode jg_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode jg_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*jg_write_callback)(char *data, size_t size, size_t count, void *userdata);
static inline CURLcode jg_easy_setopt_write_callback(CURL *handle, CURLoption option, jg_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
typedef int (*jg_closesocket_callback)(void *clientp, curl_socket_t socket);
static inline CURLcode jg_easy_setopt_closesocket_callback(CURL *handle, jg_closesocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, callback);
}

/* curl_easy_getinfo */
static inline CURLcode jg_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode jg_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode jg_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

/* curl_multi_setopt */
static inline CURLMcode jg_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
static inline CURLMcode jg_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value) {
    return curl_multi_setopt(multi, option, value);
}
typedef int (*jg_socket_callback)(CURL *easy, curl_socket_t socket, int what, void *userp, void *socketp);
static inline CURLMcode jg_multi_setopt_socket_callback(CURLM *multi, jg_socket_callback callback) {
    return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, callback);
}
typedef int (*jg_timer_callback)(CURLM *multi, long timeout_ms, void *userp);
static inline CURLMcode jg_multi_setopt_timer_callback(CURLM *multi, jg_timer_callback callback) {
    return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, callback);
}

/* CURLMsg.data is a union; Swift imports it awkwardly, so read the result code here. */
static inline CURLcode jg_msg_result(CURLMsg *message) {
    return message->data.result;
}

#endif
