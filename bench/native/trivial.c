// The Linux twin of guests/trivial.c, linked statically so that exec pays no
// dynamic loader: the cheapest honest native process to compare a SIP with.
int main(void)
{
    return 0;
}
