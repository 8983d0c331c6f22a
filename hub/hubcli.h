/*  hubcli: the commands only a hub has (DESIGN §2), added to the office
    commands by tonghop-hub's main. */
#ifndef TH_HUBCLI_H
#define TH_HUBCLI_H

#include <stddef.h>

#include "cli.h"

const th_cli_cmd_t *th_hubcli_commands(size_t *n);

#endif
