/** The broker login of a lock waiting to be commissioned (client id: its random session id). */
export const COMMISSIONING_USERNAME = "latchkey-commissioning";
/**
 * The commissioning login's password: public, the same in every lock, and no secret. Mosquitto
 * refuses a user without one, and a broker that admits anonymous clients would admit them
 * everywhere; this login is admitted only to one session's commissioning topics (`%c`, the client
 * id, is the session id), where the PAKE over the setup code protects the exchange.
 */
export const COMMISSIONING_PASSWORD = "latchkey-commissioning";
