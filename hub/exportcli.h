/*  exportcli: the `export` command of tonghop-hub: the document of
    export.h written by one of the writers (CSV in export.c, export_html,
    export_xlsx). The writers depend on the document, this on both. */
#ifndef TH_EXPORTCLI_H
#define TH_EXPORTCLI_H

#include "cli.h"

/* The `export` command of tonghop-hub (DESIGN §2): --dir, --form,
   --period, optional --unit and --as-of, --format xlsx|csv|html and --out
   FILE ("-" = standard output, csv and html only). The file is written
   beside FILE under a temporary name and renamed over it when complete,
   so a failed export never leaves a partial file. Returns an exit code. */
int th_export_cmd(th_cli_opts_t *o, int argc, char **argv);

#endif
