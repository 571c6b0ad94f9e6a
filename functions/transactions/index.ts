import { pushFunction } from '../push.js';

/** transactions → 30-second windows over all transactions → transaction_windows (through the flush). */
pushFunction('transactions', (rt) => rt.windows.transactions);
