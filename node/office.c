/*  office: create and open an office's data directory (config, identity,
    store with its forms and unit lists). */
#include "office.h"
#include "builtin.h"
#include "err.h"
#include "file.h"
#include "form_ini.h"
#include "log.h"
#include "mem.h"
#include "period.h"
#include "rotation.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_UNITS_HDR 8   /* be32 valid_from, be32 valid_to, then the CSV text */

static void
s_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}

static uint32_t
s_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A unit list as the store keeps it: be32 from | be32 to | CSV text, in a
   new buffer of S_UNITS_HDR + len bytes (th_free), or NULL. */
static uint8_t *
s_units_value(int32_t from, int32_t to, const char *text, size_t len)
{
    uint8_t *v = th_malloc(S_UNITS_HDR + len);
    if (!v)
        return NULL;
    s_put_be32(v, (uint32_t)from);
    s_put_be32(v + 4, (uint32_t)to);
    memcpy(v + S_UNITS_HDR, text, len);
    return v;
}

static int
s_path(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Forms and unit lists an operator names: larger is surely a wrong path. */
#define S_FILE_MAX ((size_t)128 << 20)

/* A whole file (th_file_read); one too large is -EFBIG, "File too large",
   as init has always said of it. */
static int
s_read_file(const char *path, char **text, size_t *len)
{
    int rc = th_file_read(path, S_FILE_MAX, text, len);
    return rc == TH_E_LIMIT ? -EFBIG : rc;
}

/* What init writes into the store, gathered before the write transaction
   so that the transaction itself cannot fail half-way for parsing reasons. */
typedef struct {
    size_t nforms;
    char *form_ids[64];
    char *form_texts[64];
    size_t form_lens[64];
    size_t nsets;
    const char *set_names[8];
    uint8_t *set_vals[8];
    size_t set_lens[8];
} s_seed_t;

static void
s_seed_clear(s_seed_t *s)
{
    for (size_t i = 0; i < s->nforms; i++) {
        th_free(s->form_ids[i]);
        th_free(s->form_texts[i]);
    }
    for (size_t i = 0; i < s->nsets; i++)
        th_free(s->set_vals[i]);
    memset(s, 0, sizeof *s);
}

static int
s_seed_write(th_store_txn_t *txn, void *ctx)
{
    s_seed_t *s = ctx;
    for (size_t i = 0; i < s->nforms; i++) {
        int rc = th_store_kv_put(txn, TH_DB_FORMS, s->form_ids[i], s->form_texts[i],
                                 s->form_lens[i]);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < s->nsets; i++) {
        int rc = th_store_kv_put(txn, TH_DB_UNITS, s->set_names[i], s->set_vals[i],
                                 s->set_lens[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int
s_seed_form(s_seed_t *s, th_forms_t *forms, const char *text, size_t len,
            const char *origin, char *errbuf, size_t cap)
{
    int err = 0;
    th_form_t *f = th_form_parse(text, len, origin, errbuf, cap, &err);
    if (!f)
        return err ? err : TH_E_CONFIG;
    if (th_forms_get(forms, f->id)) {
        th_form_destroy(&f);
        return 0;   /* defined earlier (forms dir wins over built-ins) */
    }
    if (s->nforms >= 64) {
        th_form_destroy(&f);
        snprintf(errbuf, cap, "too many forms (at most 64)");
        return TH_E_LIMIT;
    }
    size_t i = s->nforms;
    s->form_ids[i] = th_strdup(f->id);
    s->form_texts[i] = th_memdup(text, len);
    s->form_lens[i] = len;
    s->nforms++;
    int rc = th_forms_add(forms, &f);
    if (!s->form_ids[i] || !s->form_texts[i])
        return -ENOMEM;
    return rc == TH_E_STALE ? 0 : rc;
}

static int
s_seed_set(s_seed_t *s, th_units_t *units, const char *name, const char *origin,
           const char *text, size_t len, int32_t from, int32_t to, char *errbuf,
           size_t cap)
{
    int rc = th_units_load_csv(units, name, origin, text, len, from, to, errbuf, cap);
    if (rc < 0)
        return rc;
    uint8_t *v = s_units_value(from, to, text, len);
    if (!v)
        return -ENOMEM;
    s->set_names[s->nsets] = name;
    s->set_vals[s->nsets] = v;
    s->set_lens[s->nsets] = S_UNITS_HDR + len;
    s->nsets++;
    return 0;
}

static int
s_is_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

static int
s_collect_forms_dir(s_seed_t *s, th_forms_t *forms, const char *dir, char *errbuf,
                    size_t cap)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        int e = -errno;
        snprintf(errbuf, cap, "cannot read forms directory '%s': %s", dir,
                 strerror(-e));
        return e;
    }
    int rc = 0, found = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (rc == 0 && l > 4 && strcmp(nm + l - 4, ".ini") == 0) {
            char path[PATH_MAX];
            char *text = NULL;
            size_t len = 0;
            rc = s_path(path, sizeof path, dir, nm);
            if (rc == 0)
                rc = s_read_file(path, &text, &len);
            if (rc < 0)
                snprintf(errbuf, cap, "cannot read form '%s': %s", path,
                         th_strerror(rc));
            else
                rc = s_seed_form(s, forms, text, len, path, errbuf, cap);
            th_free(text);
            found++;
        }
        free(names[i]);
    }
    free(names);
    if (rc == 0 && found == 0) {
        snprintf(errbuf, cap, "no form files (*.ini) in '%s'", dir);
        rc = TH_E_CONFIG;
    }
    return rc;
}

int
th_office_init(const th_office_init_t *opt, char *errbuf, size_t cap)
{
    char path[PATH_MAX];
    int rc, created_dir = 0;
    s_seed_t seed = { 0 };
    th_forms_t *forms = th_forms_new();
    th_units_t *units = th_units_new();
    th_store_t *store = NULL;
    th_identity_t id;
    char *csv = NULL;
    size_t csv_len = 0;

    errbuf[0] = '\0';
    if (!forms || !units) {
        rc = -ENOMEM;
        goto done;
    }
    if (!opt->unit || !th_valid_unit_code(opt->unit)) {
        snprintf(errbuf, cap, "invalid unit code '%s'", opt->unit ? opt->unit : "");
        rc = TH_E_USAGE;
        goto done;
    }
    /* Everything that can be wrong in the input is checked before anything
       is written to disk. */
    if (opt->forms_dir && (rc = s_collect_forms_dir(&seed, forms, opt->forms_dir,
                                                    errbuf, cap)) < 0)
        goto done;
    size_t nb;
    const th_builtin_t *bf = th_builtin_forms(&nb);
    for (size_t i = 0; i < nb; i++)
        if ((rc = s_seed_form(&seed, forms, bf[i].text, bf[i].len, bf[i].name,
                              errbuf, cap)) < 0)
            goto done;
    if (opt->units_csv) {
        if ((rc = s_read_file(opt->units_csv, &csv, &csv_len)) < 0) {
            snprintf(errbuf, cap, "cannot read unit list '%s': %s", opt->units_csv,
                     th_strerror(rc));
            goto done;
        }
        if ((rc = s_seed_set(&seed, units, "custom", opt->units_csv, csv, csv_len,
                             INT32_MIN, INT32_MAX, errbuf, cap)) < 0)
            goto done;
    } else {
        const th_builtin_t *bu = th_builtin_units(&nb);
        if (nb == 0) {
            rc = -ENOMEM;
            goto done;
        }
        for (size_t i = 0; i < nb; i++)
            if ((rc = s_seed_set(&seed, units, bu[i].name, bu[i].name, bu[i].text,
                                 bu[i].len, bu[i].valid_from, bu[i].valid_to,
                                 errbuf, cap)) < 0)
                goto done;
    }
    if (!th_units_find(units, opt->unit, th_time_day_vn(th_now_ms()))) {
        /* A unit of an older tree (reports of past periods) is accepted. */
        if (!th_units_find_latest(units, opt->unit)) {
            snprintf(errbuf, cap,
                     "unit '%s' is not in the unit lists; check the code, or "
                     "give your own list with --units FILE.csv", opt->unit);
            rc = TH_E_UNIT;
            goto done;
        }
        th_log(TH_LOG_WARN, "office: unit '%s' is not in force today", opt->unit);
    }
    th_config_t cfg;
    th_config_defaults(&cfg);
    snprintf(cfg.unit, sizeof cfg.unit, "%s", opt->unit);
    if (opt->parent_endpoint && *opt->parent_endpoint) {
        snprintf(cfg.parent_endpoint, sizeof cfg.parent_endpoint, "%s",
                 opt->parent_endpoint);
        snprintf(cfg.parent_key, sizeof cfg.parent_key, "%s",
                 opt->parent_key ? opt->parent_key : "");
    }
    if (opt->bind)
        snprintf(cfg.bind, sizeof cfg.bind, "%s", opt->bind);
    if ((rc = th_config_check(&cfg, "configuration", errbuf, cap)) < 0)
        goto done;
    uint8_t pk[32];
    if (cfg.parent_key[0] && th_z85_decode_key(cfg.parent_key, pk) < 0) {
        snprintf(errbuf, cap, "--parent-key must be 40 Z85 characters, as printed "
                              "by 'tonghop-hub key' at the parent office");
        rc = TH_E_KEY;
        goto done;
    }

    /* Now create the directory. */
    if (mkdir(opt->dir, 0700) == 0) {
        created_dir = 1;
    } else if (errno != EEXIST) {
        rc = -errno;
        snprintf(errbuf, cap, "cannot create '%s': %s", opt->dir, strerror(errno));
        goto done;
    } else if ((rc = s_is_empty_dir(opt->dir)) != 1) {
        snprintf(errbuf, cap, "'%s' already exists and is not empty; "
                              "choose a new directory", opt->dir);
        rc = rc < 0 ? rc : TH_E_EXISTS;
        goto done;
    }
    created_dir = created_dir ? 1 : 2;   /* 2: existed empty, clean contents */
    th_identity_generate(&id);
    if ((rc = s_path(path, sizeof path, opt->dir, "identity.key")) < 0 ||
        (rc = th_identity_save(&id, path)) < 0) {
        snprintf(errbuf, cap, "cannot write the identity key: %s", th_strerror(rc));
        goto done;
    }
    if ((rc = s_path(path, sizeof path, opt->dir, "tonghop.ini")) < 0 ||
        (rc = th_config_write(path, &cfg)) < 0) {
        snprintf(errbuf, cap, "cannot write '%s': %s", path, th_strerror(rc));
        goto done;
    }
    th_store_opts_t so = { .map_size = 0, .create = true };
    if ((rc = s_path(path, sizeof path, opt->dir, "store")) < 0 ||
        !(store = th_store_open(path, &so, &rc))) {
        snprintf(errbuf, cap, "cannot create the store in '%s': %s", path,
                 th_strerror(rc));
        goto done;
    }
    if ((rc = th_store_write(store, s_seed_write, &seed)) < 0) {
        snprintf(errbuf, cap, "cannot write the store: %s", th_strerror(rc));
        goto done;
    }
    char z85[TH_Z85_KEY_LEN + 1];
    th_z85_encode_key(id.pk, z85);
    th_log(TH_LOG_INFO, "office: created '%s' for unit %s, key %s", opt->dir,
           opt->unit, z85);
    rc = 0;
done:
    th_identity_wipe(&id);
    th_store_destroy(&store);
    if (rc < 0 && created_dir) {
        /* Remove only what this call wrote. */
        const char *names[] = { "identity.key", "tonghop.ini", "tonghop.ini.tmp",
                                "store/data.mdb", "store/lock.mdb", "store" };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (s_path(path, sizeof path, opt->dir, names[i]) == 0)
                (void)(remove(path));
        if (created_dir == 1)
            rmdir(opt->dir);
    }
    s_seed_clear(&seed);
    th_forms_destroy(&forms);
    th_units_destroy(&units);
    th_free(csv);
    if (rc < 0 && !errbuf[0])
        snprintf(errbuf, cap, "%s", th_strerror(rc));
    return rc;
}

typedef struct {
    th_office_t *o;
    th_units_t *units;      /* where the unit lists go */
    char *errbuf;
    size_t cap;
} s_load_t;

static int
s_load_form(const char *key, const void *val, size_t len, void *ctx)
{
    s_load_t *l = ctx;
    int err = 0;
    char origin[96];
    snprintf(origin, sizeof origin, "store form '%s'", key);
    th_form_t *f = th_form_parse(val, len, origin, l->errbuf, l->cap, &err);
    if (!f)
        return err ? err : TH_E_CORRUPT;
    int rc = th_forms_add(l->o->forms, &f);
    return rc == TH_E_STALE ? 0 : rc;
}

static int
s_load_units(const char *key, const void *val, size_t len, void *ctx)
{
    s_load_t *l = ctx;
    const uint8_t *v = val;
    if (len < S_UNITS_HDR) {
        snprintf(l->errbuf, l->cap, "unit list '%s' in the store is corrupt", key);
        return TH_E_CORRUPT;
    }
    char origin[96];
    snprintf(origin, sizeof origin, "store units '%s'", key);
    int rc = th_units_load_csv(l->units, key, origin, (const char *)v + S_UNITS_HDR,
                               len - S_UNITS_HDR, (int32_t)s_get_be32(v),
                               (int32_t)s_get_be32(v + 4), l->errbuf, l->cap);
    /* the 2024 tree learns where each unit went in 2025 */
    return rc < 0 ? rc : th_builtin_fill_successors(l->units, key, l->errbuf, l->cap);
}

static int
s_load(th_store_txn_t *txn, void *ctx)
{
    s_load_t *l = ctx;
    int rc = th_store_kv_each(txn, TH_DB_FORMS, "", s_load_form, l);
    if (rc == 0)
        rc = th_store_kv_each(txn, TH_DB_UNITS, "", s_load_units, l);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "units.gen", &l->o->units_gen);
    return rc;
}

int
th_office_units_set_get(th_store_txn_t *txn, const char *set, int32_t *from, int32_t *to,
                        const char **text, size_t *len)
{
    const void *val;
    size_t vlen;
    int rc = th_store_kv_get(txn, TH_DB_UNITS, set, &val, &vlen);
    if (rc < 0)
        return rc;
    if (vlen < S_UNITS_HDR)
        return TH_E_CORRUPT;
    const uint8_t *v = val;
    *from = (int32_t)s_get_be32(v);
    *to = (int32_t)s_get_be32(v + 4);
    *text = (const char *)v + S_UNITS_HDR;
    *len = vlen - S_UNITS_HDR;
    return 0;
}

int
th_office_units_version(th_store_txn_t *txn, const char *set, uint64_t *version)
{
    char k[96];
    snprintf(k, sizeof k, "uv.%s", set);
    int rc = th_store_state_get_u64(txn, k, version);
    if (rc == 0 && *version == 0)
        *version = 1;   /* as made by init */
    return rc;
}

int
th_office_units_set_put(th_store_txn_t *txn, const char *set, int32_t from, int32_t to,
                        const char *text, size_t len, uint64_t version)
{
    char k[96];
    snprintf(k, sizeof k, "uv.%s", set);
    if (version == 0) {
        int rc = th_store_state_get_u64(txn, k, &version);
        if (rc < 0)
            return rc;
        version = (version ? version : 1) + 1;
    }
    uint8_t *v = s_units_value(from, to, text, len);
    if (!v)
        return -ENOMEM;
    int rc = th_store_kv_put(txn, TH_DB_UNITS, set, v, S_UNITS_HDR + len);
    th_free(v);
    uint64_t gen = 0;
    if (rc == 0)
        rc = th_store_state_put_u64(txn, k, version);
    if (rc == 0)
        rc = th_store_state_get_u64(txn, "units.gen", &gen);
    if (rc == 0)
        rc = th_store_state_put_u64(txn, "units.gen", gen + 1);
    return rc;
}

static int
s_load_units_only(th_store_txn_t *txn, void *ctx)
{
    s_load_t *l = ctx;
    int rc = th_store_state_get_u64(txn, "units.gen", &l->o->units_gen);
    if (rc == 0)
        rc = th_store_kv_each(txn, TH_DB_UNITS, "", s_load_units, l);
    return rc;
}

static int
s_units_gen(th_store_txn_t *txn, void *ctx)
{
    return th_store_state_get_u64(txn, "units.gen", ctx);
}

int
th_office_reload_units(th_office_t *o, bool *changed, char *errbuf, size_t cap)
{
    *changed = false;
    errbuf[0] = '\0';
    uint64_t gen = 0;
    int rc = th_store_read(o->store, s_units_gen, &gen);
    if (rc < 0)
        return th_errbuf(errbuf, cap, rc, "%s", th_strerror(rc));
    if (gen == o->units_gen)
        return 0;
    th_units_t *units = th_units_new();
    if (!units)
        return -ENOMEM;
    uint64_t old_gen = o->units_gen;
    s_load_t l = { o, units, errbuf, cap };
    errbuf[0] = '\0';
    if ((rc = th_store_read(o->store, s_load_units_only, &l)) < 0) {
        if (!errbuf[0])
            th_errbuf(errbuf, cap, rc, "%s", th_strerror(rc));
        o->units_gen = old_gen;   /* keep what was loaded; try again later */
        th_units_destroy(&units);
        return rc;
    }
    th_units_destroy(&o->units);
    o->units = units;
    *changed = true;
    return 0;
}

th_office_t *
th_office_open(const char *dir, char *errbuf, size_t cap, int *err)
{
    char path[PATH_MAX];
    int rc;
    th_office_t *o = th_calloc(1, sizeof *o);
    if (!o || !(o->dir = th_strdup(dir)) || !(o->forms = th_forms_new()) ||
        !(o->units = th_units_new())) {
        rc = -ENOMEM;
        snprintf(errbuf, cap, "out of memory");
        goto fail;
    }
    struct stat st;
    if ((rc = s_path(path, sizeof path, dir, "tonghop.ini")) < 0)
        goto fail;
    if (stat(path, &st) < 0) {
        if (errno == EACCES) {
            rc = -EACCES;
            snprintf(errbuf, cap, "cannot open '%s': permission denied; run as the user "
                                  "that owns the data directory", path);
        } else {
            rc = TH_E_NOTFOUND;
            snprintf(errbuf, cap, "'%s' is not a tonghop data directory (no tonghop.ini); "
                                  "create it with init", dir);
        }
        goto fail;
    }
    if ((rc = th_config_load(path, &o->cfg, errbuf, cap)) < 0)
        goto fail;
    if ((rc = s_path(path, sizeof path, dir, "identity.key")) < 0)
        goto fail;
    if ((rc = th_identity_load(path, &o->id)) < 0) {
        if (rc == -EACCES && stat(path, &st) == 0 && (st.st_mode & 077))
            snprintf(errbuf, cap, "identity key '%s' is readable by others; "
                                  "run: chmod 600 '%s'", path, path);
        else if (rc == -EACCES)
            snprintf(errbuf, cap, "cannot read identity key '%s': permission denied; run "
                                  "as the user that owns the data directory", path);
        else
            snprintf(errbuf, cap, "cannot read identity key '%s': %s", path,
                     th_strerror(rc));
        goto fail;
    }
    th_store_opts_t so = { .map_size = 0, .create = false };
    if ((rc = s_path(path, sizeof path, dir, "store")) < 0)
        goto fail;
    if (!(o->store = th_store_open(path, &so, &rc))) {
        snprintf(errbuf, cap, "cannot open the store '%s': %s", path, th_strerror(rc));
        goto fail;
    }
    errbuf[0] = '\0';
    if ((rc = th_rotation_load(dir, o->store, &o->id, &o->prev, &o->has_prev, errbuf,
                               cap)) < 0)
        goto fail;
    s_load_t l = { o, o->units, errbuf, cap };
    errbuf[0] = '\0';
    if ((rc = th_store_read(o->store, s_load, &l)) < 0) {
        if (!errbuf[0])
            snprintf(errbuf, cap, "cannot load forms and units: %s", th_strerror(rc));
        goto fail;
    }
    th_log_level = o->cfg.log_level > th_log_level ? o->cfg.log_level : th_log_level;
    *err = 0;
    return o;
fail:
    th_office_destroy(&o);
    *err = rc < 0 ? rc : TH_E_CONFIG;
    return NULL;
}

void
th_office_destroy(th_office_t **self_p)
{
    th_office_t *o = *self_p;
    if (!o)
        return;
    th_store_destroy(&o->store);
    th_forms_destroy(&o->forms);
    th_units_destroy(&o->units);
    th_identity_wipe(&o->id);
    th_identity_wipe(&o->prev);
    th_free(o->dir);
    th_free(o);
    *self_p = NULL;
}

const th_form_t *
th_office_form(const th_office_t *o, const char *id)
{
    return th_forms_get(o->forms, id);
}

bool
th_office_is_hub(const th_office_t *o)
{
    return o->cfg.bind[0] != '\0';
}
