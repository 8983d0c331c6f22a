/*  tonghop-hub: an office with children (district, province, relay). */
#include "cli.h"

int
main(int argc, char **argv)
{
    return th_cli_main(argc, argv, TH_CLI_HUB);
}
