/*  builtin: config/ files embedded with the assembler's .incbin.

    The Makefile makes this object depend on the embedded files, and the
    compiler runs from the repository root, where the paths below resolve. */
#include "builtin.h"

#include "units.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_EMBED(sym, path)                                                   \
    __asm__(".section .rodata\n"                                             \
            ".global " #sym "\n"                                             \
            ".global " #sym "_end\n"                                         \
            ".balign 16\n" #sym ":\n"                                        \
            ".incbin \"" path "\"\n" #sym "_end:\n"                          \
            ".byte 0\n"                                                      \
            ".previous\n");                                                  \
    extern const char sym[];                                                 \
    extern const char sym##_end[];

S_EMBED(th_embed_form_nam, "config/forms/dvcq-nam.ini")
S_EMBED(th_embed_form_6thang, "config/forms/dvcq-6thang.ini")
S_EMBED(th_embed_units_2024, "config/units/vn-2024.csv")
S_EMBED(th_embed_units_2025, "config/units/vn-2025.csv")
S_EMBED(th_embed_successors_2025, "config/units/successors-2025.csv")

/* 01/07/2025 is day 20270 since 1970-01-01; 30/06/2025 is 20269. */
#define S_REFORM_DAY 20270

const th_builtin_t *
th_builtin_forms(size_t *n)
{
    static th_builtin_t forms[2];
    forms[0] = (th_builtin_t){ "dvcq-nam.ini", th_embed_form_nam,
                               (size_t)(th_embed_form_nam_end - th_embed_form_nam),
                               INT32_MIN, INT32_MAX };
    forms[1] = (th_builtin_t){ "dvcq-6thang.ini", th_embed_form_6thang,
                               (size_t)(th_embed_form_6thang_end - th_embed_form_6thang),
                               INT32_MIN, INT32_MAX };
    *n = 2;
    return forms;
}

/* The official list text with the national root above its provinces: the
   row "VN,Việt Nam,country," after the header, and VN as the parent of
   every province (a row "code,name,province," without a parent). The
   official files stay as published (config/units/SOURCE.md); this is what
   the offices load. NULL on allocation failure. */
static char *
s_national(const char *text, size_t len, size_t *out_len)
{
    static const char root[] = TH_BUILTIN_ROOT_CODE ",Việt Nam,country,\n";
    size_t nprov = 0;
    for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), ",province,\n",
                                          sizeof ",province,\n" - 1));
         p++)
        nprov++;
    size_t rl = sizeof TH_BUILTIN_ROOT_CODE - 1;
    char *out = malloc(len + sizeof root + nprov * rl + 2);
    if (!out)
        return NULL;
    const char *eol = memchr(text, '\n', len);
    size_t head = eol ? (size_t)(eol - text) + 1 : len, o = 0;
    memcpy(out, text, head);
    o = head;
    memcpy(out + o, root, sizeof root - 1);
    o += sizeof root - 1;
    for (size_t i = head; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
        memcpy(out + o, text + i, l);
        o += l;
        if (l >= 10 && memcmp(text + i + l - 10, ",province,", 10) == 0) {
            memcpy(out + o, TH_BUILTIN_ROOT_CODE, rl);
            o += rl;
        }
        if (nl)
            out[o++] = '\n';
        i += l + (nl ? 1 : 0);
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

const th_builtin_t *
th_builtin_units(size_t *n)
{
    /* made once, at the first call (init, or the bench, single-threaded),
       and kept for the life of the process */
    static th_builtin_t units[2];
    static char *t24, *t25;
    static size_t l24, l25;
    if (!t24)
        t24 = s_national(th_embed_units_2024,
                         (size_t)(th_embed_units_2024_end - th_embed_units_2024), &l24);
    if (!t25)
        t25 = s_national(th_embed_units_2025,
                         (size_t)(th_embed_units_2025_end - th_embed_units_2025), &l25);
    if (!t24 || !t25) {
        *n = 0;
        return units;
    }
    units[0] = (th_builtin_t){ "vn-2024", t24, l24, INT32_MIN, S_REFORM_DAY - 1 };
    units[1] = (th_builtin_t){ "vn-2025", t25, l25, S_REFORM_DAY, INT32_MAX };
    *n = 2;
    return units;
}

const th_builtin_t *
th_builtin_successors(void)
{
    static th_builtin_t succ;
    succ = (th_builtin_t){ "vn-2024", th_embed_successors_2025,
                           (size_t)(th_embed_successors_2025_end - th_embed_successors_2025),
                           INT32_MIN, S_REFORM_DAY - 1 };
    return &succ;
}

const char *
th_builtin_successors_source(void)
{
    /* keep in step with config/units/SOURCE.md when the file is regenerated */
    return "Bảng chuyển đổi đơn vị hành chính mới - cũ của Cục Thống kê, bản lấy ngày "
           "03/12/2026";
}

int
th_builtin_fill_successors(th_units_t *units, const char *set, char *errbuf, size_t cap)
{
    const th_builtin_t *b = th_builtin_successors();
    if (!set || strcmp(set, b->name) != 0)
        return 0;
    int rc = th_units_load_successors(units, set, "successors-2025.csv", b->text, b->len,
                                      errbuf, cap);
    return rc < 0 ? rc : 0;
}
