/*  present: Vietnamese formatting and JSON shapes shared by CLI and web. */
#include "present.h"
#include "crypto.h"
#include "period.h"

#include "err.h"
#include "validate.h"
#include "vnnum.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

void
th_fmt_value_vn(const th_indicator_t *ind, const th_value_t *v, char *buf, size_t cap)
{
    switch (v->kind) {
    case TH_V_INT:
        th_vnnum_format_int(v->u.i, buf, cap);
        return;
    case TH_V_DEC:
        th_vnnum_format_dec(v->u.d, buf, cap);
        return;
    case TH_V_BOOL:
        snprintf(buf, cap, "%s", v->u.b ? "Có" : "Không");
        return;
    case TH_V_TEXT:
        if (ind && ind->type == TH_IT_ENUM) {
            for (size_t i = 0; i < ind->noptions; i++) {
                if (strcmp(ind->options[i].code, v->u.s) == 0) {
                    snprintf(buf, cap, "%s", ind->options[i].label);
                    return;
                }
            }
        }
        snprintf(buf, cap, "%s", v->u.s ? v->u.s : "");
        return;
    }
    snprintf(buf, cap, "?");
}

void
th_html_put(FILE *f, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

int
th_upper_vn(const char *s, char *buf, size_t cap)
{
    if (cap == 0)
        return TH_E_LIMIT;
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    size_t n = strlen(s), o = 0;
    mbstate_t in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    int rc = 0;
    while (n > 0) {
        char mb[MB_LEN_MAX];
        wchar_t w;
        size_t k = loc ? mbrtowc(&w, s, n, &in) : (size_t)-1, m;
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            memset(&in, 0, sizeof in);   /* invalid byte: copied */
            k = 1;
            mb[0] = *s;
            m = 1;
        } else if ((m = wcrtomb(mb, (wchar_t)towupper((wint_t)w), &out)) == (size_t)-1) {
            memcpy(mb, s, k);
            m = k;
        }
        if (o + m >= cap) {
            rc = TH_E_LIMIT;
            break;
        }
        memcpy(buf + o, mb, m);
        o += m;
        s += k;
        n -= k;
    }
    buf[o] = '\0';
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
    return rc;
}

json_t *
th_present_value_json(const th_value_t *v)
{
    switch (v->kind) {
    case TH_V_INT: return json_integer((json_int_t)v->u.i);
    case TH_V_DEC: return json_real(v->u.d);
    case TH_V_BOOL: return json_boolean(v->u.b);
    case TH_V_TEXT: return json_string(v->u.s ? v->u.s : "");
    }
    return json_null();
}

json_t *
th_present_record_json(const th_form_t *f, const th_record_t *r, bool signature_ok)
{
    char when[32], origin[TH_Z85_KEY_LEN + 1];
    th_time_format_iso(r->submitted_at, when);
    th_z85_encode_key(r->origin, origin);
    json_t *vals = json_object(), *comp = json_object();
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:s, s:s}",
                          "form", r->form, "period", r->period, "unit", r->unit,
                          "form_version", (json_int_t)r->form_version,
                          "rev", (json_int_t)r->rev,
                          "status", r->status == TH_STATUS_SUBMITTED ? "submitted" : "draft",
                          "submitted_at", when, "author", r->author ? r->author : "",
                          "note", r->note ? r->note : "", "proxy", r->proxy,
                          "origin", origin,
                          "signature", signature_ok ? "valid" : "invalid");
    if (!o || !vals || !comp)
        goto oom;
    if (r->proxy && (json_object_set_new(o, "entered_by", json_string(r->by)) < 0 ||
                     json_object_set_new(o, "document", json_string(r->doc ? r->doc : ""))
                         < 0))
        goto oom;
    for (size_t i = 0; i < r->nvalues; i++)
        if (json_object_set_new(vals, r->values[i].code,
                                th_present_value_json(&r->values[i])) < 0)
            goto oom;
    if (f) {
        for (size_t i = 0; i < f->nindicators; i++) {
            const th_indicator_t *ind = &f->indicators[i];
            double d;
            if (ind->computed && th_form_computed(f, ind, r, &d) == 0)
                if (json_object_set_new(comp, ind->code, json_real(d)) < 0)
                    goto oom;
        }
    }
    if (json_object_set_new(o, "values", vals) < 0) {
        vals = NULL;
        goto oom;
    }
    vals = NULL;
    if (json_object_set_new(o, "computed", comp) < 0) {
        comp = NULL;
        goto oom;
    }
    return o;
oom:
    json_decref(o);
    json_decref(vals);
    json_decref(comp);
    return NULL;
}

json_t *
th_present_forms_json(const th_forms_t *fs)
{
    json_t *list = json_array();
    if (!list)
        return NULL;
    for (size_t i = 0; i < th_forms_count(fs); i++) {
        const th_form_t *f = th_forms_at(fs, i);
        json_t *inds = json_array();
        json_t *fo = json_pack("{s:s, s:I, s:s, s:s}", "id", f->id,
                               "version", (json_int_t)f->version, "title", f->title,
                               "period_type", th_period_type_name(f->period_type));
        if (!inds || !fo || json_array_append_new(list, fo) < 0) {
            json_decref(inds);
            json_decref(fo);
            json_decref(list);
            return NULL;
        }
        json_t *lv = json_array();
        for (size_t j = 0; lv && j < f->nlevels; j++)
            json_array_append_new(lv, json_string(f->levels[j]));
        json_object_set_new(fo, "levels", lv ? lv : json_null());
        if (f->has_cutoff) {
            char a[16], b[16];
            const th_deadline_spec_t *ca = &f->cutoff_from, *cb = &f->cutoff_to;
            snprintf(a, sizeof a, "%02d/%02d%+d", ca->day, ca->month, ca->years);
            snprintf(b, sizeof b, "%02d/%02d%+d", cb->day, cb->month, cb->years);
            json_object_set_new(fo, "cutoff", json_pack("{s:s, s:s}", "from", a, "to", b));
        }
        for (size_t j = 0; j < f->nindicators; j++) {
            const th_indicator_t *ind = &f->indicators[j];
            json_t *io = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
                                   "code", ind->code, "label", ind->label,
                                   "type", th_itype_name(ind->type),
                                   "agg", th_agg_name(ind->agg),
                                   "unit", ind->unit ? ind->unit : "",
                                   "required", ind->required, "computed", ind->computed);
            if (!io || json_array_append_new(inds, io) < 0) {
                json_decref(inds);
                json_decref(list);
                return NULL;
            }
        }
        if (json_object_set_new(fo, "indicators", inds) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}
