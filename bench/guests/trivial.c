// The smallest Signet-native program: `_start` returns at once. The spawn
// benchmark creates, runs and reaps it; its Linux twin is native/trivial.c.
void _start(void)
{
}
