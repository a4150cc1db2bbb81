/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    PREPARE_GENOME: the genome FASTA as extract, score and clean read it
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    A FASTA with its indexes beside it (.fai; .gzi too for a .gz name) goes on as it is, with
    no task. Any other (plain gzip as Ensembl and GENCODE ship it, or an index missing) is
    prepared once by SPLAMFLOW_PREPAREGENOME: a .gz FASTA recompressed with bgzip, any FASTA
    indexed, under its own file name.
----------------------------------------------------------------------------------------
*/

include { SPLAMFLOW_PREPAREGENOME } from '../../../modules/splamflow/splamflow/preparegenome/main'

workflow PREPARE_GENOME {

    take:
    ch_fasta  // channel: [ val(meta), path(fasta), [ path(fai), path(gzi) ] or [] when an index is missing ]

    main:
    ch_branched = ch_fasta.branch { _meta, _fasta, indexes ->
        ready: indexes
        missing: true
    }
    SPLAMFLOW_PREPAREGENOME(ch_branched.missing.map { meta, fasta, _indexes -> [meta, fasta] })
    fasta = ch_branched.ready.mix(SPLAMFLOW_PREPAREGENOME.out.fasta).first()

    // emits are bare names: Nextflow 25.04.0's strict parser drops `name = value` emits
    emit:
    fasta  // value channel: [ val(meta), path(fasta), [ path(fai), path(gzi) ] ]
}
