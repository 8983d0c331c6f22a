/*  builtin: config/ files embedded with the assembler's .incbin.

    The Makefile makes this object depend on the embedded files, and the
    compiler runs from the repository root, where the paths below resolve. */
#include "builtin.h"

#include "units.h"

#include <stdint.h>
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

const th_builtin_t *
th_builtin_units(size_t *n)
{
    static th_builtin_t units[2];
    units[0] = (th_builtin_t){ "vn-2024", th_embed_units_2024,
                               (size_t)(th_embed_units_2024_end - th_embed_units_2024),
                               INT32_MIN, S_REFORM_DAY - 1 };
    units[1] = (th_builtin_t){ "vn-2025", th_embed_units_2025,
                               (size_t)(th_embed_units_2025_end - th_embed_units_2025),
                               S_REFORM_DAY, INT32_MAX };
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
