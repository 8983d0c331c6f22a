/*  form_ini: the reader of form definition files.

    A form is an INI file under config/forms/ parsed with libinih: a [form]
    section (id, version, title, period_type, levels, deadline.LEVEL),
    [section ID] headings, [indicator CODE] entries in entry order, and
    [rule ID] validation rules (see rules.h). Parsing checks everything an
    operator could get wrong and reports it as
    "<origin>:<line>: <what is wrong>", in English; what it makes is the
    immutable th_form_t of forms.h.

    File format notes (Debian's libinih 55 build): comments start a line with
    ';' or '#', and an inline comment starts at " ;" (whitespace then ';'),
    so a value that needs ';' must not have a space before it. A line may be
    at most TH_FORM_LINE_MAX bytes; a longer text (title, label, help,
    message, options) is continued on the following lines indented by at
    least one space or tab, joined with one space. Keys must not be
    indented. An indicator without "section =" belongs to the last [section]
    above it. */
#ifndef TH_FORM_INI_H
#define TH_FORM_INI_H

#include <stddef.h>

#include "forms.h"

#define TH_FORM_LINE_MAX   197      /* bytes of one line, without newline */
#define TH_FORM_SOURCE_MAX (1 << 20) /* bytes of one form file */

/* Parses a form definition from text[0..len) (need not be NUL-terminated;
   a NUL byte inside is an error). origin names it in messages (NULL ->
   "form"). errbuf/cap optional; on failure it receives
   "<origin>:<line>: <what is wrong>" in English. err optional; receives 0
   or the error:
     TH_E_PARSE  syntax or content error: unknown section or key, duplicate
                 section/key/code, bad id/code/type/aggregation/number,
                 missing label/type/title, aggregation not allowed for the
                 type, ratio parts missing or not numeric, rule that does not
                 compile or names an unknown or non-numeric indicator, bad
                 deadline, unknown section reference, bad period_type,
                 invalid UTF-8, line longer than TH_FORM_LINE_MAX
     TH_E_LIMIT  text over TH_FORM_SOURCE_MAX, more than TH_VALUES_MAX
                 indicators
     -ENOMEM
     -EINVAL     text is NULL
   Returns the form (caller owns it; th_form_destroy) or NULL. Does not
   change libinih's global settings, and relies on them keeping their
   defaults (multi-line values on, ';' inline comments): no module may
   change them. Thread-safe. */
th_form_t *th_form_parse(const char *text, size_t len, const char *origin,
                         char *errbuf, size_t cap, int *err);

/* Reads (th_file_read) and parses the file at path (origin = path). Errors
   as th_form_parse, plus those of reading the file: -errno from opening it,
   -EIO, TH_E_LIMIT for more than TH_FORM_SOURCE_MAX bytes, -EINVAL for a
   NULL path; errbuf then reads "cannot read form '<path>': <reason>". */
th_form_t *th_form_load(const char *path, char *errbuf, size_t cap, int *err);

/* Loads every "*.ini" file of dir (in name order) into fs. Stops at the
   first file that does not parse and returns its error with the message in
   errbuf; a file whose id is already present with an equal or higher
   version is skipped (logged). Returns 0, an error of th_form_load, or
   -errno from opening dir. */
int th_forms_load_dir(th_forms_t *fs, const char *dir, char *errbuf, size_t cap);

#endif
