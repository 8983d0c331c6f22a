/*  config: the office's tonghop.ini, read with libinih.

    The file is small and written by `init`; an operator may edit it. Every
    unknown section or key and every bad value is an error naming the file
    and line, so a typo never silently changes behaviour. Layout:

        [office]   unit = 72001            ; this office's unit code
        [parent]   endpoint = tcp://h:p    ; absent at the root
                   key = <Z85 public key of the parent office>
        [hub]      bind = tcp://IP:PORT    ; hubs only
                   approve = no            ; yes: children's reports count and go
                                           ; up once approved (duyệt)
        [web]      listen = 127.0.0.1:8080
                   login = auto            ; auto: only beyond loopback; required
        [log]      level = info            ; error|warn|info|debug
        [sync]     heartbeat_ms = 5000     ; PING interval on an idle link
                   timeout_ms = 15000      ; no word from the parent: reconnect
                   retry_max_ms = 60000    ; longest wait between reconnects
                   poll_ms = 1000          ; how often new local entries are looked for
        [report]   superior = UBND TỈNH TÂY NINH   ; optional, the exported report's
                   issuer = SỞ NỘI VỤ              ; header: governing body, issuing
                   place = Tây Ninh                ; office, place name, signer's title
                   signer = GIÁM ĐỐC
*/
#ifndef TH_CONFIG_H
#define TH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"
#include "model.h"

#define TH_ENDPOINT_MAX 256
#define TH_REPORT_TEXT_MAX 160   /* bytes of a [report] value, incl. NUL */

typedef struct {
    char unit[TH_UNIT_MAX];
    char parent_endpoint[TH_ENDPOINT_MAX];   /* "" when no parent */
    char parent_key[TH_Z85_KEY_LEN + 1];     /* "" when no parent */
    char bind[TH_ENDPOINT_MAX];              /* "" for a node */
    bool approve;                            /* [hub] approve = yes */
    char web_listen[TH_ENDPOINT_MAX];        /* default 127.0.0.1:8080 */
    char web_login[16];                      /* "auto" (default) or "required" */
    int log_level;                           /* th_log_level_t */
    int heartbeat_ms, timeout_ms, retry_max_ms, poll_ms;   /* [sync] */
    /* [limits], hubs: what one direct child may cost, so that a misbehaving
       (or stolen) office cannot starve its siblings or fill the disk.
       Messages and bytes per second (token buckets holding 2 s, and at
       least one largest frame); megabytes the hub stores for the child's
       subtree (revisions and quarantine). */
    int limit_msgs_per_s, limit_kib_per_s, limit_store_mb;
    /* [report]: the administrative header of exported reports, valid UTF-8;
       "" = derived from the unit's name (see hub/export.h) */
    char report_superior[TH_REPORT_TEXT_MAX];
    char report_issuer[TH_REPORT_TEXT_MAX];
    char report_place[TH_REPORT_TEXT_MAX];
    char report_signer[TH_REPORT_TEXT_MAX];
} th_config_t;

/* Fills c with defaults (no unit, no parent, web on 127.0.0.1:8080, warn). */
void th_config_defaults(th_config_t *c);

/* Reads path into c (defaults first). On error errbuf holds
   "<path>:<line>: <what>" (or "<path>: <what>") and the return is
   TH_E_CONFIG, or -errno when the file cannot be read. */
int th_config_load(const char *path, th_config_t *c, char *errbuf, size_t cap);

/* Checks values that must hold together: unit set and valid, parent
   endpoint and key both or neither, endpoints look like tcp://host:port.
   Returns 0 or TH_E_CONFIG with errbuf set. */
int th_config_check(const th_config_t *c, const char *path, char *errbuf,
                    size_t cap);

/* Writes c to path atomically (temp file, fsync, rename), with comments.
   Returns 0 or -errno. */
int th_config_write(const char *path, const th_config_t *c);

#endif
